import { describe, expect, it } from 'vitest';
import { rateLimitPolicies } from '../../shared/rate-limits.js';
import { routes } from '../../shared/routes/index.js';
import { freshIp, invokeRoute as invoke } from '../helpers/invoke.js';
import { uniqueEmail } from '../helpers/users.js';

// This file is about limits: turn them on (the rest of the suite runs with RATE_LIMITS=off).
process.env.RATE_LIMITS = 'on';

describe('API keys have their own rate-limit budget (API.md § API keys)', () => {
  it('spends its own rate-limit budget, not its owner’s', async () => {
    // A fresh source IP: the per-IP and sign-up budgets of other test files are not ours.
    const sourceIp = freshIp();
    const email = uniqueEmail('limits');
    const password = 'correct horse battery';
    const credentials = { sourceIp, body: { email, password } };
    expect((await invoke(routes.register, credentials)).status).toBe(201);
    const token = (await invoke(routes.login, credentials)).body.access_token as string;
    const newKey = async () => {
      const created = await invoke(routes.createApiKey, {
        sourceIp,
        token,
        body: { name: 'k', scopes: ['notes:read'] },
      });
      expect(created.status).toBe(201);
      return created.body.key as string;
    };
    const [a, b] = [await newKey(), await newKey()];
    const list = (options: { token?: string; key?: string }) =>
      invoke(routes.listNotes, {
        sourceIp,
        ...(options.token ? { token: options.token } : {}),
        ...(options.key ? { headers: { 'x-api-key': options.key } } : {}),
      });
    const remaining = (r: { headers: Headers }) => Number(r.headers.get('ratelimit-remaining'));
    const first = await list({ key: a });
    expect(first.status).toBe(200);
    for (let i = 0; i < 3; i++) await list({ key: a });
    expect(remaining(await list({ key: a }))).toBe(remaining(first) - 4);
    // Key b starts with a full budget; so does the owner, who spent only three requests with
    // the token (two key creations and this one).
    expect(remaining(await list({ key: b }))).toBe(remaining(first));
    const byToken = await list({ token });
    expect(remaining(byToken)).toBe(Number(byToken.headers.get('ratelimit-limit')) - 3);
  });

  it('a refused key spends the per-IP budget of refused credentials like a bad token', async () => {
    const sourceIp = freshIp();
    const { limit } = rateLimitPolicies.ipRefusedCredentials;
    const statuses: number[] = [];
    for (let i = 0; i <= limit; i++) {
      const response = await invoke(routes.listNotes, {
        sourceIp,
        headers: { 'x-api-key': `sk_local_${'Z'.repeat(53)}` },
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, limit)).toEqual(Array(limit).fill(401));
    expect(statuses[limit]).toBe(429);
  });
});
