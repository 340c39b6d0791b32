import { describe, expect, it } from 'vitest';
import { useApi } from '../helpers/api.js';
import { createUser } from '../helpers/users.js';

// This file is about limits: turn them on (the rest of the suite runs with RATE_LIMITS=off).
process.env.RATE_LIMITS = 'on';
const api = useApi();

describe('API keys have their own rate-limit budget (API.md § API keys)', () => {
  it('spends its own rate-limit budget, not its owner’s', async () => {
    const user = await createUser(api);
    const a = (
      await api.post('/api/v1/api-keys', {
        token: user.token,
        body: { name: 'k', scopes: ['notes:read'] },
      })
    ).body;
    const b = (
      await api.post('/api/v1/api-keys', {
        token: user.token,
        body: { name: 'k', scopes: ['notes:read'] },
      })
    ).body;
    const remaining = (r: { headers: Headers }) => Number(r.headers.get('ratelimit-remaining'));
    const first = await api.get('/api/v1/notes', { headers: { 'x-api-key': a.key } });
    for (let i = 0; i < 3; i++) await api.get('/api/v1/notes', { headers: { 'x-api-key': a.key } });
    const afterA = await api.get('/api/v1/notes', { headers: { 'x-api-key': a.key } });
    expect(remaining(afterA)).toBe(remaining(first) - 4);
    const byB = await api.get('/api/v1/notes', { headers: { 'x-api-key': b.key } });
    const byToken = await api.get('/api/v1/notes', { token: user.token });
    expect(remaining(byB)).toBe(remaining(first));
    // The owner's budget spent only the owner's three token requests (two key creations, this).
    expect(remaining(byToken)).toBe(Number(byToken.headers.get('ratelimit-limit')) - 3);
  });
});
