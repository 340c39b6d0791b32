import { describe, expect, it } from 'vitest';
import { rateLimitPolicies } from '../../shared/rate-limits.js';
import { routeList } from '../../shared/routes.js';
import { type ApiResponse, useApi } from '../helpers/api.js';
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

  it('login: exactly 10 of 50 parallel attempts from one IP pass, the rest are 429 with Retry-After', async () => {
    const email = uniqueEmail('burst');
    // Register through the service: the register route has its own, smaller budget.
    const { register } = await import('../../shared/users/service.js');
    await register({ email, password });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        api.post('/api/v1/auth/login', { body: { email, password } }),
      ),
    );
    expect(count(responses, 200)).toBe(rateLimitPolicies.login.limit);
    expect(count(responses, 429)).toBe(50 - rateLimitPolicies.login.limit);
    const limited = responses.find((r) => r.status === 429) as ApiResponse;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expectLimitHeaders(limited, 10, 60);
    expectLimitHeaders(responses.find((r) => r.status === 200) as ApiResponse, 10, 60);
  });

  it('identity is the API Gateway source IP: X-Forwarded-For does not buy a new budget', async () => {
    // The login budget of 127.0.0.1 is spent by the test above.
    const response = await api.post('/api/v1/auth/login', {
      body: { email: uniqueEmail(), password },
      headers: { 'x-forwarded-for': '198.51.100.23' },
    });
    expect(response.status).toBe(429);
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

  it('failed logins: after 5 wrong passwords for one e-mail, even the right one is 429 for that e-mail only', async () => {
    const { register } = await import('../../shared/users/service.js');
    const { login } = await import('../../shared/users/service.js');
    const email = uniqueEmail('guess');
    const other = uniqueEmail('other');
    await register({ email, password });
    await register({ email: other, password });
    const ip = { ip: '203.0.113.50' }; // the service takes the source IP from the handler
    for (let i = 0; i < 5; i++) {
      await expect(login({ email, password: `wrong-${i}-password` }, ip)).rejects.toMatchObject({
        kind: 'unauthenticated',
      });
    }
    await expect(login({ email, password }, ip)).rejects.toMatchObject({ kind: 'rate_limited' });
    await expect(login({ email: other, password }, ip)).resolves.toMatchObject({
      token_type: 'bearer',
    });
    await expect(login({ email, password }, { ip: '203.0.113.51' })).resolves.toMatchObject({
      token_type: 'bearer',
    });
  });

  it('a successful login clears the failure count', async () => {
    const { register, login } = await import('../../shared/users/service.js');
    const email = uniqueEmail('clear');
    await register({ email, password });
    const ip = { ip: '203.0.113.60' };
    for (let i = 0; i < 4; i++)
      await expect(login({ email, password: 'wrong-password' }, ip)).rejects.toThrow();
    await login({ email, password }, ip);
    for (let i = 0; i < 4; i++)
      await expect(login({ email, password: 'wrong-password' }, ip)).rejects.toThrow();
    await expect(login({ email, password }, ip)).resolves.toMatchObject({ token_type: 'bearer' });
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
