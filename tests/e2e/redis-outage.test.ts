import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../infra/local/redis-server.js';
import { startUpstashBridge } from '../../infra/local/upstash-bridge.js';

// This file kills its own Redis: it gets a private redis-server and bridge, a short circuit
// breaker window, and rate limits on (to see the fail modes).
const server = await startRedisServer();
const bridge = await startUpstashBridge({ redisUrl: server.url });
Object.assign(process.env, {
  REDIS_REST_URL: bridge.url,
  REDIS_REST_TOKEN: bridge.token,
  REDIS_RETRY_AFTER_MS: '300',
  RATE_LIMITS: 'on',
});
afterAll(async () => {
  server.resume();
  await bridge.close();
  await server.stop();
});

const { useApi } = await import('../helpers/api.js');
const { createUser, uniqueEmail } = await import('../helpers/users.js');
const api = useApi();
const password = 'correct horse battery';

/** Polls `probe` until it returns true; at most `tries` × 100 ms. */
async function eventually(probe: () => Promise<boolean>, tries = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not reached');
}

describe('Redis outage', () => {
  let token = '';

  it('with Redis up: cache hits, rate-limit headers, healthy', async () => {
    ({ token } = await createUser(api));
    await api.get('/api/v1/notes', { token });
    expect((await api.get('/api/v1/notes', { token })).headers.get('x-cache')).toBe('hit');
    expect((await api.get('/health')).body).toEqual({ status: 'ok', db: 'ok', redis: 'ok' });
  });

  it('Redis killed mid-run: requests still succeed, the cache is bypassed, /health says 503', async () => {
    await server.stop();
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
  });

  it('limiters follow their fail mode: login fails open, register fails closed (503)', async () => {
    const { register } = await import('../../shared/users/service.js');
    const email = uniqueEmail('outage');
    await register({ email, password });
    const login = await api.post('/api/v1/auth/login', { body: { email, password } });
    expect(login.status).toBe(200);
    const signUp = await api.post('/api/v1/auth/register', {
      body: { email: uniqueEmail(), password },
    });
    expect(signUp.status).toBe(503);
    expect(signUp.headers.get('retry-after')).toBeTruthy();
  });

  it('Redis back: the cache is used again without a restart', async () => {
    await server.restart();
    await eventually(
      async () => (await api.get('/api/v1/notes', { token })).headers.get('x-cache') === 'hit',
    );
    expect((await api.get('/health')).status).toBe(200);
    expect((await api.get('/api/v1/users/me', { token })).headers.get('ratelimit-limit')).toBe(
      '300',
    );
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
