import { describe, expect, it } from 'vitest';
import { rateLimitPolicies } from '../../shared/rate-limits.js';
import { routeList, routes } from '../../shared/routes/index.js';
import { type ApiResponse, useApi } from '../helpers/api.js';
import { freshIp, invokeRoute as invoke } from '../helpers/invoke.js';
import { uniqueEmail } from '../helpers/users.js';

// This suite is about limits: turn them on (the rest of the suite runs with RATE_LIMITS=off).
process.env.RATE_LIMITS = 'on';

const api = useApi();
const password = 'correct horse battery';
const count = (responses: ApiResponse[], status: number) =>
  responses.filter((r) => r.status === status).length;

function expectLimitHeaders(response: ApiResponse, limit: number, windowSeconds: number) {
  expect(response.headers.get('ratelimit-policy')).toBe(`${limit};w=${windowSeconds}`);
  expect(response.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(Number(response.headers.get('ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
  expect(Number(response.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
}

describe('rate limits', () => {
  it('every route has a policy, except the health probes', () => {
    for (const route of routeList) {
      if (route.path.startsWith('/health')) expect(route.rateLimit, route.path).toBeNull();
      else expect(route.rateLimit, `${route.method} ${route.path}`).not.toBeNull();
    }
  });

  it('login: exactly 10 of 50 parallel attempts from one IP get past the route’s budget, the rest are 429 with Retry-After', async () => {
    // Distinct (unknown) e-mails: each has its own failure budgets, so only the route's
    // per-IP budget (10/min) decides. Through the gateway: the IP is 127.0.0.1.
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        api.post('/api/v1/auth/login', { body: { email: uniqueEmail('burst'), password } }),
      ),
    );
    expect(count(responses, 401)).toBe(rateLimitPolicies.login.limit);
    expect(count(responses, 429)).toBe(50 - rateLimitPolicies.login.limit);
    const limited = responses.find((r) => r.status === 429) as ApiResponse;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expectLimitHeaders(limited, 10, 60);
    expectLimitHeaders(responses.find((r) => r.status === 401) as ApiResponse, 10, 60);
  });

  it('identity is the API Gateway source IP: X-Forwarded-For does not buy a new budget', async () => {
    const ip = freshIp();
    const attempt = (headers: Record<string, string> = {}, sourceIp = ip) =>
      invoke(routes.login, {
        sourceIp,
        headers,
        body: { email: uniqueEmail('xff'), password },
      });
    for (let i = 0; i < rateLimitPolicies.login.limit; i++) {
      expect((await attempt()).status).toBe(401);
    }
    const spoofed = await attempt({
      'x-forwarded-for': '198.51.100.23',
      forwarded: 'for=198.51.100.23',
    });
    expect(spoofed.status).toBe(429);
    // Someone else naming the spent IP in X-Forwarded-For keeps their own budget.
    expect((await attempt({ 'x-forwarded-for': ip }, freshIp())).status).toBe(401);
  });

  it('register: 5 per minute per IP', async () => {
    const responses: ApiResponse[] = [];
    for (let i = 0; i < 7; i++) {
      responses.push(
        await api.post('/api/v1/auth/register', { body: { email: uniqueEmail(), password } }),
      );
    }
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 429, 429]);
    expectLimitHeaders(responses[0] as ApiResponse, 5, 60);
  });

  it('signed-in routes spend the user’s own budget (300/min), with headers on every response', async () => {
    const { issueAccessToken } = await import('../../shared/auth/tokens.js');
    const { register } = await import('../../shared/users/service.js');
    const users = await Promise.all([0, 1].map(() => register({ email: uniqueEmail(), password })));
    const [a, b] = await Promise.all(users.map((u) => issueAccessToken(u)));
    const first = await api.get('/api/v1/users/me', { token: a?.token });
    const second = await api.get('/api/v1/users/me', { token: a?.token });
    expectLimitHeaders(first, 300, 60);
    expect(Number(second.headers.get('ratelimit-remaining'))).toBe(
      Number(first.headers.get('ratelimit-remaining')) - 1,
    );
    const other = await api.get('/api/v1/users/me', { token: b?.token });
    expect(other.headers.get('ratelimit-remaining')).toBe('299');
    // Errors on a limited route carry the headers too.
    const missing = await api.get(`/api/v1/notes/${crypto.randomUUID()}`, { token: a?.token });
    expect(missing.status).toBe(404);
    expectLimitHeaders(missing, 300, 60);
  });

  it('inventory: update 10/min and query 30/min per client (user), each user with its own budget', async () => {
    // Made through the services: the register and login routes have their own budgets.
    const { register } = await import('../../shared/users/service.js');
    const { issueAccessToken } = await import('../../shared/auth/tokens.js');
    const signedIn = async (role: 'user' | 'admin') => {
      const created = await register({ email: uniqueEmail(role), password });
      return issueAccessToken({ id: created.id, role });
    };
    const [admin, user, other] = await Promise.all([
      signedIn('admin'),
      signedIn('user'),
      signedIn('user'),
    ]);
    const items = [{ productid: 'RL-1', quantity: 1, timestamp: '2024-01-01T00:00:00Z' }];
    const updates: ApiResponse[] = [];
    for (let i = 0; i < 11; i++) {
      updates.push(
        await api.post('/api/v1/inventory/update', { token: admin.token, body: { items } }),
      );
    }
    expect(updates.map((r) => r.status)).toEqual([...Array(10).fill(201), 429]);
    expectLimitHeaders(updates[0] as ApiResponse, 10, 60);
    const queries = await Promise.all(
      Array.from({ length: 35 }, () =>
        api.get('/api/v1/inventory/query', { token: user.token, query: { productid: 'RL-1' } }),
      ),
    );
    expect(count(queries, 200)).toBe(30);
    expect(count(queries, 429)).toBe(5);
    const fresh = await api.get('/api/v1/inventory/query', {
      token: other.token,
      query: { productid: 'RL-1' },
    });
    expect(fresh.status).toBe(200);
    expectLimitHeaders(fresh, 30, 60);
  });

  it('public routes are limited per IP', async () => {
    const response = await api.get('/openapi.json');
    expectLimitHeaders(response, rateLimitPolicies.public.limit, 60);
    expect((await api.get('/health')).headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('per-IP limits before authentication', () => {
  const refusedBudget = rateLimitPolicies.ipRefusedCredentials;

  it('350 garbage tokens from one IP: 429 with Retry-After from the 61st refused credential on; other IPs and the health probes go on', async () => {
    const { register } = await import('../../shared/users/service.js');
    const { issueAccessToken } = await import('../../shared/auth/tokens.js');
    const user = await register({ email: uniqueEmail('ip'), password });
    const { token } = await issueAccessToken(user);
    const ip = freshIp();
    const started = Date.now();
    const responses: ApiResponse[] = [];
    for (let i = 0; i < 350; i++) {
      responses.push(await invoke(routes.me, { sourceIp: ip, token: 'garbage.token.value' }));
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(responses.slice(0, refusedBudget.limit).map((r) => r.status)).toEqual(
      Array(refusedBudget.limit).fill(401),
    );
    const later = responses.slice(refusedBudget.limit);
    expect(later.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    // A sliding window refills continuously (60/min: one a second); nothing more gets by.
    expect(count(later, 401)).toBeLessThanOrEqual(Math.ceil(elapsedSeconds) + 1);
    for (const limited of later.filter((r) => r.status === 429)) {
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(120);
      expectLimitHeaders(limited, refusedBudget.limit, refusedBudget.windowSeconds);
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    }
    // The IP is refused before its token is looked at, even a valid one…
    expect((await invoke(routes.me, { sourceIp: ip, token })).status).toBe(429);
    // …while another IP is unaffected, with a valid token or a bad one.
    const other = freshIp();
    expect((await invoke(routes.me, { sourceIp: other, token })).status).toBe(200);
    expect((await invoke(routes.me, { sourceIp: other, token: 'garbage' })).status).toBe(401);
    // The health probes are exempt.
    expect((await invoke(routes.healthLive, { sourceIp: ip })).status).toBe(200);
    expect((await invoke(routes.healthCheck, { sourceIp: ip })).status).toBe(200);
  });

  it('a missing token is not a refused credential', async () => {
    const ip = freshIp();
    for (let i = 0; i < refusedBudget.limit + 5; i++) {
      expect((await invoke(routes.me, { sourceIp: ip })).status).toBe(401);
    }
  });

  it('health probes are never limited, however often they are called', async () => {
    const ip = freshIp();
    const probes = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        invoke(i % 15 ? routes.healthLive : routes.healthCheck, { sourceIp: ip }),
      ),
    );
    expect(probes.filter((r) => r.status === 429)).toEqual([]);
    expect(probes.every((r) => r.headers.get('ratelimit-limit') === null)).toBe(true);
  });
});
