import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { touchLastUsed } from '../../shared/api-keys/repository.js';
import { getSql } from '../../shared/db/client.js';
import { useApi } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();

async function createKey(user: TestUser, body: Record<string, unknown>) {
  return api.post('/api/v1/api-keys', { token: user.token, body });
}

/** The audit events a write left in the outbox for `resourceId`: `action by actor`, and the rows' text. */
async function auditEventsOf(resourceId: string): Promise<{ events: string[]; text: string }> {
  const rows = await getSql()<{ type: string; actor: string | null; payload: string }[]>`
    SELECT type, payload->>'actor_id' AS actor, payload::text AS payload FROM outbox
    WHERE queue = 'audit' AND payload->>'resource_id' = ${resourceId} ORDER BY created_at, id`;
  return {
    events: rows.map((row) => `${row.type} by ${row.actor}`),
    text: rows.map((row) => row.payload).join('\n'),
  };
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

  it('audits creation and revocation with the user as actor, once each, never the secret or its hash', async () => {
    const [owner, other] = await Promise.all([createUser(api), createUser(api)]);
    const created = await createKey(owner, { name: 'audited', scopes: ['notes:read'] });
    expect(created.status).toBe(201);
    const { id, key, prefix } = created.body as { id: string; key: string; prefix: string };
    expect((await auditEventsOf(id)).events).toEqual([`api_key.created by ${owner.id}`]);

    const path = `/api/v1/api-keys/${id}`;
    expect((await api.delete(path, { token: other.token })).status).toBe(404);
    expect((await api.delete(path, { token: owner.token })).status).toBe(204);
    expect((await api.delete(path, { token: owner.token })).status).toBe(204);
    const [first, second] = await Promise.all([
      api.delete(path, { token: owner.token }),
      api.delete(path, { token: owner.token }),
    ]);
    expect([first.status, second.status]).toEqual([204, 204]);

    const { events, text } = await auditEventsOf(id);
    expect(events).toEqual([`api_key.created by ${owner.id}`, `api_key.revoked by ${owner.id}`]);
    expect(text).toContain(prefix);
    const [row] = await getSql()<{ key_hash: Buffer }[]>`
      SELECT key_hash FROM api_keys WHERE id = ${id}`;
    const hash = row?.key_hash as Buffer;
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(prefix.length));
    expect(text).not.toContain(hash.toString('hex'));
    expect(text).not.toContain(hash.toString('base64'));
    expect(text).not.toContain(`\\x${hash.toString('hex')}`);
  });

  it('a failed creation (409, 422) audits nothing', async () => {
    const user = await createUser(api);
    const refused = await createKey(user, { name: 'x', scopes: ['inventory:write'] });
    expect(refused.status).toBe(422);
    const [row] = await getSql()<{ n: number }[]>`
      SELECT count(*)::int AS n FROM outbox
      WHERE queue = 'audit' AND type = 'api_key.created' AND payload->>'actor_id' = ${user.id}`;
    expect(row?.n).toBe(0);
  });
});

/** A new key of `user` with `scopes`; its text and id. */
async function keyOf(user: TestUser, scopes: string[], extra: Record<string, unknown> = {}) {
  const created = await createKey(user, { name: 'test', scopes, ...extra });
  expect(created.status).toBe(201);
  return { key: created.body.key as string, id: created.body.id as string };
}

/** The problem body without what differs per request. */
function problemOf(response: { body: Record<string, unknown> }) {
  const { request_id: _id, instance: _instance, ...rest } = response.body;
  return rest;
}

describe('API keys authenticate (API.md § API keys)', () => {
  it('works as X-API-Key and as Authorization: Bearer, acting as its owner', async () => {
    const user = await createUser(api);
    const note = await api.post('/api/v1/notes', { token: user.token, body: { title: 'mine' } });
    const { key } = await keyOf(user, ['notes:read']);
    const viaHeader = await api.get(`/api/v1/notes/${note.body.id}`, {
      headers: { 'x-api-key': key },
    });
    expect(viaHeader.status).toBe(200);
    const viaBearer = await api.get('/api/v1/notes', { token: key });
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body.items.map((n: { id: string }) => n.id)).toEqual([note.body.id]);
  });

  it('403 for a scope the key lacks, on tokens-only routes, and on the key routes themselves', async () => {
    const user = await createUser(api);
    const { key } = await keyOf(user, ['notes:read']);
    const headers = { 'x-api-key': key };
    expect((await api.post('/api/v1/notes', { headers, body: { title: 'x' } })).status).toBe(403);
    expect((await api.get('/api/v1/orders', { headers })).status).toBe(403);
    expect((await api.get('/api/v1/users/me', { headers })).status).toBe(403);
    expect((await api.get('/api/v1/users/me', { token: key })).status).toBe(403);
    expect((await api.get('/api/v1/api-keys', { headers })).status).toBe(403);
    const made = await api.post('/api/v1/api-keys', {
      token: key,
      body: { name: 'x', scopes: ['notes:read'] },
    });
    expect(made.status).toBe(403);
  });

  it('an admin-only route needs an admin owner: inventory:write works for an admin’s key', async () => {
    const admin = await createUser(api, 'admin');
    const { key } = await keyOf(admin, ['inventory:write']);
    const batch = await api.post('/api/v1/inventory/update', {
      headers: { 'x-api-key': key, 'idempotency-key': `feed-${randomUUID()}` },
      body: { items: [{ productid: 'KEY-1', quantity: 3, timestamp: '2024-01-01T00:00:00Z' }] },
    });
    expect(batch.status).toBe(201);
  });

  it('unknown, malformed, expired and revoked keys: 401 with one body', async () => {
    const user = await createUser(api);
    const revoked = await keyOf(user, ['notes:read']);
    expect((await api.delete(`/api/v1/api-keys/${revoked.id}`, { token: user.token })).status).toBe(
      204,
    );
    const expired = await keyOf(user, ['notes:read'], {
      expires_at: new Date(Date.now() + 1500).toISOString(),
    });
    const { key } = await keyOf(user, ['notes:read']);
    const unknownPrefix = `sk_local_${'A'.repeat(53)}`;
    const wrongSecret =
      `${key.slice(0, -5)}AAAAA` === key ? `${key.slice(0, -5)}BBBBB` : `${key.slice(0, -5)}AAAAA`;
    await eventually(async () => {
      const r = await api.get('/api/v1/notes', { headers: { 'x-api-key': expired.key } });
      return r.status === 401;
    }, 5);
    const answers = await Promise.all(
      [revoked.key, expired.key, unknownPrefix, wrongSecret, 'sk_nonsense'].map((k) =>
        api.get('/api/v1/notes', { headers: { 'x-api-key': k } }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(problemOf(answer)).toEqual(problemOf(answers[0] as (typeof answers)[number]));
    }
  });

  it('a revoked key is refused within 5 s on a warm instance', async () => {
    const user = await createUser(api);
    const { key, id } = await keyOf(user, ['notes:read']);
    const headers = { 'x-api-key': key };
    expect((await api.get('/api/v1/notes', { headers })).status).toBe(200); // cached now
    expect((await api.delete(`/api/v1/api-keys/${id}`, { token: user.token })).status).toBe(204);
    const revokedAt = Date.now();
    await eventually(async () => (await api.get('/api/v1/notes', { headers })).status === 401, 5);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(5000);
  });

  it('writes last_used_at at most once a minute', async () => {
    const user = await createUser(api);
    const { key, id } = await keyOf(user, ['notes:read']);
    const lastUsed = async () =>
      (
        await getSql()<{ last_used_at: Date | null }[]>`
        SELECT last_used_at FROM api_keys WHERE id = ${id}`
      )[0]?.last_used_at ?? null;
    expect(await lastUsed()).toBeNull();
    await api.get('/api/v1/notes', { headers: { 'x-api-key': key } });
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await api.get('/api/v1/notes', { headers: { 'x-api-key': key } });
    expect(await lastUsed()).toEqual(first);
    const listed = await api.get('/api/v1/api-keys', { token: user.token });
    expect(listed.body.items[0].last_used_at).toBe(first?.toISOString());

    // The UPDATE itself is conditional: another instance writes only once the minute is over.
    await touchLastUsed(id, 60);
    expect(await lastUsed()).toEqual(first);
    await getSql()`UPDATE api_keys SET last_used_at = now() - interval '61 seconds' WHERE id = ${id}`;
    const old = await lastUsed();
    await touchLastUsed(id, 60);
    expect((await lastUsed())?.getTime()).toBeGreaterThan(old?.getTime() ?? 0);
  });
});
