import { describe, expect, it } from 'vitest';
import { usePrivateRedis } from '../helpers/private-redis.js';

// Login's failure budgets, raced and under a Redis outage. This file freezes its own Redis:
// a private redis-server and bridge, a short circuit-breaker window, and limits on.
const { server } = await usePrivateRedis();

import type { ApiResponse } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';

const { freshIp, invokeRoute: invoke } = await import('../helpers/invoke.js');
const { uniqueEmail } = await import('../helpers/users.js');
const { routes } = await import('../../shared/routes/index.js');
const { rateLimitPolicies } = await import('../../shared/rate-limits.js');
const service = await import('../../shared/users/service.js');
const { issueAccessToken } = await import('../../shared/auth/tokens.js');

const password = 'correct horse battery';

const login = (email: string, pass: string, sourceIp: string) =>
  invoke(routes.login, { sourceIp, body: { email, password: pass } });
const statuses = (answers: ApiResponse[]) => answers.map((a) => a.status).sort();

function expectRetryAfter(answer: ApiResponse, policy: { limit: number; windowSeconds: number }) {
  expect(answer.status).toBe(429);
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(2 * policy.windowSeconds);
  expect(answer.headers.get('ratelimit-policy')).toBe(`${policy.limit};w=${policy.windowSeconds}`);
  expect(answer.headers.get('ratelimit-remaining')).toBe('0');
}

describe('login failure budgets', () => {
  it('10 parallel wrong passwords for one e-mail from one IP: 5 × 401, the rest 429 with Retry-After', async () => {
    const email = uniqueEmail('race');
    await service.register({ email, password });
    const ip = freshIp();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login(email, `wrong password ${i}`, ip)),
    );
    expect(statuses(answers)).toEqual([...Array(5).fill(401), ...Array(5).fill(429)]);
    for (const limited of answers.filter((a) => a.status === 429)) {
      expectRetryAfter(limited, rateLimitPolicies.loginFailures);
    }
    // Spent: even the right password is refused, without being checked; from another IP
    // too, by the account's budget (this IP has also spent the login route's 10/min).
    expectRetryAfter(
      await login(email, password, freshIp()),
      rateLimitPolicies.loginAccountFailures,
    );
  });

  it('an unknown e-mail looks like a wrong password: same 401 body, same budget', async () => {
    const known = uniqueEmail('known');
    await service.register({ email: known, password });
    const [unknownAnswers, knownAnswers] = await Promise.all(
      [uniqueEmail('nobody'), known].map((email) => {
        const ip = freshIp();
        return Promise.all(Array.from({ length: 7 }, () => login(email, 'wrong password', ip)));
      }),
    );
    const expected = [...Array(5).fill(401), ...Array(2).fill(429)];
    expect(statuses(unknownAnswers as ApiResponse[])).toEqual(expected);
    expect(statuses(knownAnswers as ApiResponse[])).toEqual(expected);
    const detail = (answers: ApiResponse[]) =>
      answers.find((a) => a.status === 401)?.body.detail as string;
    expect(detail(unknownAnswers as ApiResponse[])).toBe(detail(knownAnswers as ApiResponse[]));
  });

  it('the account has its own budget: 10 parallel wrong passwords from 10 IPs give 5 × 401', async () => {
    const email = uniqueEmail('spread');
    await service.register({ email, password });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login(email, `wrong password ${i}`, freshIp())),
    );
    expect(statuses(answers)).toEqual([...Array(5).fill(401), ...Array(5).fill(429)]);
    for (const limited of answers.filter((a) => a.status === 429)) {
      expectRetryAfter(limited, rateLimitPolicies.loginAccountFailures);
    }
    expectRetryAfter(
      await login(email, password, freshIp()),
      rateLimitPolicies.loginAccountFailures,
    );
    // Another account is not affected.
    const other = uniqueEmail('other');
    await service.register({ email: other, password });
    expect((await login(other, password, freshIp())).status).toBe(200);
  });

  it('a right password after failures gives its token back: only failures count', async () => {
    const email = uniqueEmail('giveback');
    await service.register({ email, password });
    const ip = freshIp();
    const sequence: number[] = [];
    for (let i = 0; i < 4; i++) sequence.push((await login(email, 'wrong password', ip)).status);
    sequence.push((await login(email, password, ip)).status);
    // The success took a token and gave it back: the fifth failure still gets its 401.
    sequence.push((await login(email, 'wrong password', ip)).status);
    sequence.push((await login(email, 'wrong password', ip)).status);
    sequence.push((await login(email, password, ip)).status);
    expect(sequence).toEqual([401, 401, 401, 401, 200, 401, 429, 429]);
  });

  it('many right passwords in a row never spend the budget', async () => {
    const email = uniqueEmail('regular');
    await service.register({ email, password });
    const ip = freshIp();
    // Ten logins: the login route's own per-IP budget (10/min) is the only limit reached.
    for (let i = 0; i < 8; i++) expect((await login(email, password, ip)).status).toBe(200);
    expect((await login(email, 'wrong password', ip)).status).toBe(401);
    expect((await login(email, password, ip)).status).toBe(200);
  });

  it('fails closed while Redis is unavailable: 503 with Retry-After, and the per-IP limit fails open', async () => {
    const email = uniqueEmail('outage');
    const user = await service.register({ email, password });
    const { token } = await issueAccessToken({ id: user.id, role: 'user' });
    server.pause();
    try {
      const ip = freshIp();
      const refused = await login(email, password, ip);
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await expect(service.login({ email, password }, { ip })).rejects.toMatchObject({
        kind: 'unavailable',
      });
      // Signed-in routes are still served, and a bad token is still a plain 401.
      expect((await invoke(routes.me, { sourceIp: ip, token })).status).toBe(200);
      expect((await invoke(routes.me, { sourceIp: ip, token: 'garbage' })).status).toBe(401);
    } finally {
      server.resume();
    }
    // Redis back: logins work again without a restart.
    await eventually(async () => (await login(email, password, freshIp())).status === 200);
  });
});
