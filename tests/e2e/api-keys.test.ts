import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { useApi } from '../helpers/api.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();

async function createKey(user: TestUser, body: Record<string, unknown>) {
  return api.post('/api/v1/api-keys', { token: user.token, body });
}

describe('API keys: creation, listing, revocation (API.md § API keys)', () => {
  it('creates a key shown once: sk_<stage>_<base62>, ≥ 256 bits, only its hash stored', async () => {
    const user = await createUser(api);
    const created = await createKey(user, { name: 'feeder', scopes: ['notes:read'] });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^sk_local_[0-9A-Za-z]{53}$/);
    expect(key.startsWith(created.body.prefix)).toBe(true);
    expect(created.body).toMatchObject({
      name: 'feeder',
      scopes: ['notes:read'],
      expires_at: null,
      last_used_at: null,
    });

    const list = await api.get('/api/v1/api-keys', { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toEqual({ ...created.body, key: undefined });
    expect(list.text).not.toContain(key.slice(created.body.prefix.length));

    const [row] = await getSql()<{ key_hash: Buffer }[]>`
      SELECT key_hash FROM api_keys WHERE id = ${created.body.id}`;
    expect(row?.key_hash.length).toBe(32);
    expect(row?.key_hash.toString('latin1')).not.toContain(key);
  });

  it('refuses a scope the role may not use (422) and unknown scopes, but lets an admin', async () => {
    const [user, admin] = await Promise.all([createUser(api), createUser(api, 'admin')]);
    const refused = await createKey(user, { name: 'x', scopes: ['notes:read', 'inventory:write'] });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ field: 'scopes.1', code: 'scope_not_allowed' }),
    ]);
    expect((await createKey(user, { name: 'x', scopes: ['notes:admin'] })).status).toBe(422);
    expect((await createKey(user, { name: 'x', scopes: [] })).status).toBe(422);
    const repeated = await createKey(user, { name: 'x', scopes: ['orders:read', 'orders:read'] });
    expect(repeated.status).toBe(201);
    expect(repeated.body.scopes).toEqual(['orders:read']);
    expect(
      (await createKey(user, { name: 'x', scopes: ['notes:read'], owner_id: admin.id })).status,
    ).toBe(422);
    expect((await createKey(admin, { name: 'x', scopes: ['inventory:write'] })).status).toBe(201);
  });

  it('takes a future expires_at only', async () => {
    const user = await createUser(api);
    const past = await createKey(user, {
      name: 'x',
      scopes: ['notes:read'],
      expires_at: '2020-01-01T00:00:00Z',
    });
    expect(past.status).toBe(422);
    const future = await createKey(user, {
      name: 'x',
      scopes: ['notes:read'],
      expires_at: '2999-01-01T00:00:00',
    });
    expect(future.status).toBe(201);
    expect(future.body.expires_at).toBe('2999-01-01T00:00:00.000Z');
  });

  it('allows 20 live keys per user: the 21st is 409, and a revoked one frees a place', async () => {
    const user = await createUser(api);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await createKey(user, { name: `k${i}`, scopes: ['notes:read'] });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    expect((await createKey(user, { name: 'k20', scopes: ['notes:read'] })).status).toBe(409);
    expect((await api.delete(`/api/v1/api-keys/${ids[0]}`, { token: user.token })).status).toBe(
      204,
    );
    expect((await createKey(user, { name: 'k20', scopes: ['notes:read'] })).status).toBe(201);
  });

  it('20 live keys hold under concurrent creation', async () => {
    const user = await createUser(api);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        createKey(user, { name: `c${i}`, scopes: ['notes:read'] }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(20);
    expect(results.filter((r) => r.status === 409)).toHaveLength(4);
  });

  it('revokes idempotently (204 twice), hides the key, and 404s another user’s or unknown key', async () => {
    const [owner, other] = await Promise.all([createUser(api), createUser(api)]);
    const created = await createKey(owner, { name: 'x', scopes: ['notes:read'] });
    const path = `/api/v1/api-keys/${created.body.id}`;
    expect((await api.delete(path, { token: other.token })).status).toBe(404);
    expect((await api.delete(path, { token: owner.token })).status).toBe(204);
    expect((await api.delete(path, { token: owner.token })).status).toBe(204);
    expect((await api.get('/api/v1/api-keys', { token: owner.token })).body.items).toEqual([]);
    expect(
      (await api.delete(`/api/v1/api-keys/${randomUUID()}`, { token: owner.token })).status,
    ).toBe(404);
  });
});
