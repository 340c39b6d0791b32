import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { usePrivateRedis } from '../helpers/private-redis.js';

// This file kills its own Redis: it gets a private redis-server and bridge, a short circuit
// breaker window, and rate limits on (to see the fail modes).
const { server } = await usePrivateRedis();

const { useApi } = await import('../helpers/api.js');
const { createUser, uniqueEmail } = await import('../helpers/users.js');
const api = useApi();
const password = 'correct horse battery';

/** Runs `work` with the Redis process stopped, and starts it again afterwards. */
async function withRedisStopped(work: () => Promise<void>): Promise<void> {
  await server.stop();
  try {
    await work();
  } finally {
    await server.restart();
  }
}

// Each test starts with Redis up and used again (circuit closed), whatever ran before it.
describe('Redis outage', () => {
  let token = '';

  beforeAll(async () => {
    ({ token } = await createUser(api));
  });

  beforeEach(async () => {
    // /health pings past the circuit breaker; a cached read shows the breaker is closed too.
    await eventually(
      async () => (await api.get('/api/v1/notes', { token })).headers.get('x-cache') !== 'bypass',
    );
  });

  it('with Redis up: cache hits, rate-limit headers, healthy', async () => {
    await api.get('/api/v1/notes', { token });
    expect((await api.get('/api/v1/notes', { token })).headers.get('x-cache')).toBe('hit');
    expect((await api.get('/health')).body).toEqual({ status: 'ok', db: 'ok', redis: 'ok' });
  });

  it('Redis killed mid-run: requests still succeed, the cache is bypassed, /health says 503', async () =>
    withRedisStopped(async () => {
      const list = await api.get('/api/v1/notes', { token });
      expect(list.status).toBe(200);
      expect(list.headers.get('x-cache')).toBe('bypass');
      expect(list.headers.get('ratelimit-limit')).toBeNull(); // default policy fails open
      const created = await api.post('/api/v1/notes', {
        token,
        body: { title: 'written during the outage' },
      });
      expect(created.status).toBe(201);
      const after = await api.get('/api/v1/notes', { token });
      expect(after.body.items.map((n: { title: string }) => n.title)).toContain(
        'written during the outage',
      );
      const health = await api.get('/health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'unavailable', db: 'ok', redis: 'unavailable' });
    }));

  it('limiters follow their fail mode: login and register fail closed (503 with Retry-After)', async () => {
    const { register } = await import('../../shared/users/service.js');
    const email = uniqueEmail('outage');
    await register({ email, password });
    await withRedisStopped(async () => {
      const login = await api.post('/api/v1/auth/login', { body: { email, password } });
      expect(login.status).toBe(503);
      expect(login.headers.get('retry-after')).toBe('5');
      const signUp = await api.post('/api/v1/auth/register', {
        body: { email: uniqueEmail(), password },
      });
      expect(signUp.status).toBe(503);
      expect(signUp.headers.get('retry-after')).toBe('5');
    });
  });

  it('Redis back: the cache is used again without a restart', async () => {
    await withRedisStopped(async () => {
      expect((await api.get('/api/v1/notes', { token })).headers.get('x-cache')).toBe('bypass');
    });
    await eventually(
      async () => (await api.get('/api/v1/notes', { token })).headers.get('x-cache') === 'hit',
    );
    expect((await api.get('/health')).status).toBe(200);
    expect((await api.get('/api/v1/users/me', { token })).headers.get('ratelimit-limit')).toBe(
      '300',
    );
  });

  it('a write made while Redis is frozen is seen by every later read, cached or not', async () => {
    const user = await createUser(api);
    const titles = async () => {
      const response = await api.get('/api/v1/notes', { token: user.token });
      expect(response.status).toBe(200);
      return {
        cache: response.headers.get('x-cache'),
        titles: response.body.items.map((n: { title: string }) => n.title),
      };
    };
    await api.post('/api/v1/notes', { token: user.token, body: { title: 'before' } });
    // The pre-write page is in Redis (and stays there: a frozen Redis keeps its data).
    await eventually(async () => (await titles()).cache === 'hit');
    server.pause();
    try {
      const created = await api.post('/api/v1/notes', {
        token: user.token,
        body: { title: 'written while frozen' },
      });
      expect(created.status).toBe(201);
    } finally {
      server.resume();
    }
    // For a few seconds after Redis is back, every read must show the write; some of them
    // must come from Redis again, so cached reads are what is being checked. Paced, to stay
    // within the user's rate limit (on in this file).
    const deadline = Date.now() + 3000;
    const seen = new Set<string | null>();
    while (Date.now() < deadline) {
      const read = await titles();
      seen.add(read.cache);
      expect(read.titles, `X-Cache ${read.cache}`).toEqual(['written while frozen', 'before']);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen).toContain('hit');
  });

  it('a frozen Redis (connections open, no answers) is bypassed after the client timeout', async () => {
    server.pause();
    try {
      const list = await api.get('/api/v1/notes', { token });
      expect(list.status).toBe(200);
      expect(list.headers.get('x-cache')).toBe('bypass');
      expect((await api.get('/health')).body.redis).toBe('unavailable');
    } finally {
      server.resume();
    }
    await eventually(
      async () => (await api.get('/api/v1/notes', { token })).headers.get('x-cache') !== 'bypass',
    );
  });
});
