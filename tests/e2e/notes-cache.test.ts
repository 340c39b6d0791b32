import { describe, expect, it } from 'vitest';
import { getRedis } from '../../shared/cache/redis.js';
import { getSql } from '../../shared/db/client.js';
import { useApi } from '../helpers/api.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();

const list = (user: TestUser, query: Record<string, string | number> = {}) =>
  api.get('/api/v1/notes', { token: user.token, query });
const titles = (body: { items: { title: string }[] }) => body.items.map((n) => n.title);

describe('notes list cache (cache-aside in Redis)', () => {
  it('misses first, then hits with the same body; another query is another entry', async () => {
    const user = await createUser(api);
    await api.post('/api/v1/notes', { token: user.token, body: { title: 'one' } });
    const first = await list(user);
    expect(first.headers.get('x-cache')).toBe('miss');
    const second = await list(user);
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.body).toEqual(first.body);
    expect((await list(user, { limit: 5 })).headers.get('x-cache')).toBe('miss');
    expect((await list(user, { limit: 5 })).headers.get('x-cache')).toBe('hit');
  });

  it('keeps entries at most NOTES_CACHE_TTL_SECONDS (≤ 60 s) under the version from PostgreSQL', async () => {
    const user = await createUser(api);
    await api.post('/api/v1/notes', { token: user.token, body: { title: 'one' } });
    await list(user);
    const redis = await getRedis();
    if (!redis) throw new Error('the suite runs with Redis');
    const [row] = await getSql()<{ version: string }[]>`
      SELECT version FROM cache_versions WHERE scope = ${`notes:${user.id}`}`;
    expect(Number(row?.version)).toBeGreaterThanOrEqual(1);
    // The entry's key is `{notes:<owner>}:v<version>:<hash>`; find it through the page's own key space.
    const [, keys] = await redis.command<[string, string[]]>([
      'SCAN',
      0,
      'MATCH',
      `{notes:${user.id}}:v${row?.version}:*`,
      'COUNT',
      1000,
    ]);
    expect(keys).toHaveLength(1);
    const ttl = await redis.command<number>(['TTL', keys[0] as string]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('a write that bypasses the service (plain SQL) still moves readers to a fresh page', async () => {
    const user = await createUser(api);
    const created = await api.post('/api/v1/notes', { token: user.token, body: { title: 'old' } });
    await list(user);
    expect((await list(user)).headers.get('x-cache')).toBe('hit');
    await getSql()`UPDATE notes SET title = 'renamed by hand' WHERE id = ${created.body.id}`;
    const after = await list(user);
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(titles(after.body)).toEqual(['renamed by hand']);
    await getSql()`DELETE FROM notes WHERE id = ${created.body.id}`;
    expect(titles((await list(user)).body)).toEqual([]);
  });

  it('a write that rolls back leaves the version, and the cached page, as they were', async () => {
    const user = await createUser(api);
    await api.post('/api/v1/notes', { token: user.token, body: { title: 'kept' } });
    await list(user);
    await getSql()
      .begin(async (tx) => {
        await tx`INSERT INTO notes (owner_id, title) VALUES (${user.id}, 'rolled back')`;
        throw new Error('abort');
      })
      .catch(() => undefined);
    const after = await list(user);
    expect(after.headers.get('x-cache')).toBe('hit');
    expect(titles(after.body)).toEqual(['kept']);
  });

  it('every kind of write invalidates the owner’s pages before it answers', async () => {
    const user = await createUser(api);
    const created = await api.post('/api/v1/notes', { token: user.token, body: { title: 'a' } });
    const id = created.body.id;
    await list(user);
    expect((await list(user)).headers.get('x-cache')).toBe('hit');

    const writes: [string, () => Promise<unknown>, (titles: string[], all: unknown) => void][] = [
      [
        'create',
        () => api.post('/api/v1/notes', { token: user.token, body: { title: 'b' } }),
        (t) => expect(t).toContain('b'),
      ],
      [
        'put',
        () =>
          api.put(`/api/v1/notes/${id}`, { token: user.token, body: { title: 'a2', content: '' } }),
        (t) => expect(t).toContain('a2'),
      ],
      [
        'patch',
        () => api.patch(`/api/v1/notes/${id}`, { token: user.token, body: { title: 'a3' } }),
        (t) => expect(t).toContain('a3'),
      ],
      [
        'archive',
        () => api.delete(`/api/v1/notes/${id}`, { token: user.token }),
        (t) => expect(t).not.toContain('a3'),
      ],
      [
        'restore',
        () => api.post(`/api/v1/notes/restore/${id}`, { token: user.token }),
        (t) => expect(t).toContain('a3'),
      ],
    ];
    for (const [name, write, check] of writes) {
      await write();
      const after = await list(user);
      expect(after.headers.get('x-cache'), name).toBe('miss');
      check(titles(after.body), after.body);
      expect((await list(user)).headers.get('x-cache'), name).toBe('hit');
    }
  });

  it('one owner’s writes leave other owners’ pages cached', async () => {
    const [a, b] = await Promise.all([createUser(api), createUser(api)]);
    await list(b);
    await api.post('/api/v1/notes', { token: a.token, body: { title: 'mine' } });
    expect((await list(b)).headers.get('x-cache')).toBe('hit');
  });

  it('never shows a stale list after a write has returned (interleaved, sequential)', async () => {
    const user = await createUser(api);
    const expected: string[] = [];
    for (let i = 0; i < 15; i++) {
      await list(user); // fill the cache with the current state
      const title = `n${i}`;
      await api.post('/api/v1/notes', { token: user.token, body: { title } });
      expected.unshift(title);
      expect(titles((await list(user, { limit: 100 })).body)).toEqual(expected);
      expect(titles((await list(user)).body)).toEqual(expected.slice(0, 20));
    }
  });

  it('never shows a stale list after a write has returned (concurrent readers and writers)', async () => {
    const user = await createUser(api);
    const written = new Set<string>();
    let reading = true;
    // Readers hammer the list (filling the cache) while a writer creates notes one by one.
    const readers = Array.from({ length: 4 }, async () => {
      while (reading) await list(user, { limit: 100 });
    });
    for (let i = 0; i < 20; i++) {
      const title = `c${i}`;
      await api.post('/api/v1/notes', { token: user.token, body: { title } });
      written.add(title);
      // Every note whose creation has returned is in every list read that starts now.
      const seen = await Promise.all([list(user, { limit: 100 }), list(user, { limit: 100 })]);
      for (const response of seen) {
        const got = new Set(titles(response.body));
        for (const title of written)
          expect(
            got.has(title),
            `${title} missing (X-Cache ${response.headers.get('x-cache')})`,
          ).toBe(true);
      }
    }
    reading = false;
    await Promise.all(readers);
  });
});
