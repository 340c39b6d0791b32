import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../shared/config.js';
import { getSql } from '../../shared/db/client.js';
import { encodeCursor, type KeysetPosition } from '../../shared/notes/cursor.js';
import { listNotes } from '../../shared/notes/repository.js';
import { ListNotesQuery } from '../../shared/notes/schemas.js';
import { type ApiResponse, useApi } from '../helpers/api.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();

type Query = Record<string, string | number>;
interface Item {
  id: string;
  title: string;
  archived: boolean;
}

async function list(user: TestUser, query: Query = {}): Promise<ApiResponse> {
  const response = await api.get('/api/v1/notes', { token: user.token, query });
  expect(response.status).toBe(200);
  return response;
}

const idsOf = (response: ApiResponse): string[] => response.body.items.map((n: Item) => n.id);

/** Follows `next_cursor` from the first page to the last; returns each page's ids. */
async function walk(user: TestUser, query: Query): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const response = await list(user, cursor ? { ...query, cursor } : query);
    expect(response.body.limit).toBe(query.limit ?? 20);
    pages.push(idsOf(response));
    cursor = response.body.next_cursor;
    expect(pages.length).toBeLessThan(50);
  } while (cursor !== null);
  return pages;
}

async function createNote(user: TestUser, title: string, content = ''): Promise<string> {
  const response = await api.post('/api/v1/notes', { token: user.token, body: { title, content } });
  expect(response.status).toBe(201);
  return response.body.id;
}

async function archive(user: TestUser, id: string): Promise<void> {
  expect((await api.delete(`/api/v1/notes/${id}`, { token: user.token })).status).toBe(204);
}

/** The owner's active note ids in the database's keyset order (the expected API order). */
async function storedOrder(
  ownerId: string,
  sort: 'created_at' | 'updated_at' | 'title',
  order: 'asc' | 'desc',
): Promise<string[]> {
  const sql = getSql();
  const direction = order === 'asc' ? sql`ASC` : sql`DESC`;
  const rows = await sql<{ id: string }[]>`
    SELECT id FROM notes WHERE owner_id = ${ownerId} AND archived_at IS NULL
    ORDER BY ${sql(sort)} ${direction}, id ${direction}`;
  return rows.map((row) => row.id);
}

function fieldsOf(response: ApiResponse): string[] {
  return (response.body.errors ?? []).map((e: { field: string }) => e.field);
}

describe('GET /api/v1/notes defaults and the archived filter', () => {
  let user: TestUser;
  let created: string[];
  let archived: string[];

  beforeAll(async () => {
    user = await createUser(api);
    created = [];
    for (let i = 0; i < 23; i += 1) created.push(await createNote(user, `Note ${i}`));
    archived = [created[2], created[5]] as string[];
    for (const id of archived) await archive(user, id);
  });

  it('lists active notes only, newest first, 20 per page by default', async () => {
    const first = await list(user);
    expect(Object.keys(first.body).sort()).toEqual(['items', 'limit', 'next_cursor']);
    expect(first.body.limit).toBe(20);
    const active = created.filter((id) => !archived.includes(id)).reverse();
    expect(active).toHaveLength(21);
    expect(idsOf(first)).toEqual(active.slice(0, 20));
    expect(first.body.items.every((n: Item) => !n.archived)).toBe(true);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await list(user, { cursor: first.body.next_cursor });
    expect(idsOf(second)).toEqual(active.slice(20));
    expect(second.body.next_cursor).toBeNull();
  });

  it('archived=false is the default', async () => {
    expect(idsOf(await list(user, { archived: 'false' }))).toEqual(idsOf(await list(user)));
  });

  it('archived=true lists only archived notes, newest first', async () => {
    const response = await list(user, { archived: 'true' });
    expect(idsOf(response)).toEqual([...archived].reverse());
    expect(response.body.items.every((n: Item) => n.archived)).toBe(true);
    expect(response.body.next_cursor).toBeNull();
  });

  it('archived=all lists both', async () => {
    const response = await list(user, { archived: 'all', limit: 100 });
    expect(idsOf(response)).toEqual([...created].reverse());
    expect(response.body.next_cursor).toBeNull();
  });

  it('an exactly full last page has next_cursor null', async () => {
    const response = await list(user, { archived: 'all', limit: 23 });
    expect(idsOf(response)).toHaveLength(23);
    expect(response.body.next_cursor).toBeNull();
  });
});

describe('keyset pagination', () => {
  let user: TestUser;
  let created: string[];

  beforeAll(async () => {
    user = await createUser(api);
    created = [];
    // Titles out of creation order, five of them shared (ties on title).
    for (let i = 0; i < 25; i += 1) {
      const n = (i * 7) % 20;
      created.push(await createNote(user, `Note ${String(n).padStart(2, '0')}`));
    }
    // Touch some notes in another order, so updated_at order differs from created_at order.
    for (const index of [3, 17, 0, 24, 11, 8]) {
      const id = created[index] as string;
      const response = await api.patch(`/api/v1/notes/${id}`, {
        token: user.token,
        body: { content: `touched ${index}` },
      });
      expect(response.status).toBe(200);
    }
  });

  it.each([
    ['created_at', 'desc'],
    ['created_at', 'asc'],
    ['updated_at', 'desc'],
    ['updated_at', 'asc'],
    ['title', 'asc'],
    ['title', 'desc'],
  ] as const)(
    'sort=%s order=%s walks 10, 10, 5 without duplicates or gaps',
    async (sort, order) => {
      const pages = await walk(user, { limit: 10, sort, order });
      expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
      const ids = pages.flat();
      expect(new Set(ids).size).toBe(25);
      expect([...ids].sort()).toEqual([...created].sort());
      expect(ids).toEqual(await storedOrder(user.id, sort, order));
    },
  );

  it('the default order is created_at desc, the reverse of creation', async () => {
    expect((await walk(user, { limit: 10 })).flat()).toEqual([...created].reverse());
  });

  it('sort=title order=asc returns titles in ascending order', async () => {
    const titles: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Query = { sort: 'title', order: 'asc', limit: 10 };
      const response = await list(user, cursor ? { ...query, cursor } : query);
      titles.push(...response.body.items.map((n: Item) => n.title));
      cursor = response.body.next_cursor;
    } while (cursor);
    expect(titles).toHaveLength(25);
    expect(titles).toEqual([...titles].sort());
  });

  it('sort=updated_at desc puts the last touched note first', async () => {
    const response = await list(user, { sort: 'updated_at', limit: 1 });
    expect(idsOf(response)).toEqual([created[8]]);
  });

  it('a cursor stays valid when only limit changes', async () => {
    const first = await list(user, { limit: 10 });
    const next = await list(user, { limit: 4, cursor: first.body.next_cursor });
    expect(next.body.limit).toBe(4);
    expect(idsOf(next)).toEqual([...created].reverse().slice(10, 14));
  });
});

describe('keyset pagination under ties (rows inserted by SQL)', () => {
  let user: TestUser;
  /** Ascending (sort value, id) order, the same for created_at, updated_at and title. */
  let ascending: string[];
  let tie: string[];

  beforeAll(async () => {
    user = await createUser(api);
    const sql = getSql();
    const at = (ts: string, title: string) => ({ title, ts });
    const rows = [
      at('2025-03-01T09:00:00.000001Z', 'Alpha 1'),
      at('2025-03-01T09:30:00Z', 'Alpha 2'),
      ...Array.from({ length: 7 }, () => at('2025-03-01T10:00:00.123456Z', 'Tie')),
      // One microsecond after the tie: a cursor that lost precision would skip or repeat it.
      at('2025-03-01T10:00:00.123457Z', 'Tiz'),
      at('2025-03-01T11:00:00Z', 'Zulu 1'),
      at('2025-03-01T11:30:00Z', 'Zulu 2'),
    ];
    const inserted: string[] = [];
    for (const row of rows) {
      const [note] = await sql<{ id: string }[]>`
        INSERT INTO notes (owner_id, title, created_at, updated_at)
        VALUES (${user.id}, ${row.title}, ${row.ts}::text::timestamptz, ${row.ts}::text::timestamptz)
        RETURNING id`;
      inserted.push(note?.id as string);
    }
    tie = inserted.slice(2, 9).sort();
    ascending = [...inserted.slice(0, 2), ...tie, ...inserted.slice(9)];
    // Stored with microseconds (a timestamptz parameter would go through a JS Date and lose them).
    const stored = await sql<{ title: string; ts: string }[]>`
      SELECT DISTINCT title,
             to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts
      FROM notes WHERE owner_id = ${user.id} AND title LIKE 'Ti%' ORDER BY ts`;
    expect(stored).toEqual([
      { title: 'Tie', ts: '2025-03-01T10:00:00.123456Z' },
      { title: 'Tiz', ts: '2025-03-01T10:00:00.123457Z' },
    ]);
  });

  it.each([
    ['created_at', 'desc'],
    ['created_at', 'asc'],
    ['updated_at', 'desc'],
    ['updated_at', 'asc'],
    ['title', 'asc'],
    ['title', 'desc'],
  ] as const)(
    'sort=%s order=%s with limit 3 returns every row once, ties by id',
    async (sort, order) => {
      const pages = await walk(user, { limit: 3, sort, order });
      expect(pages.map((page) => page.length)).toEqual([3, 3, 3, 3]);
      const ids = pages.flat();
      expect(ids).toEqual(order === 'asc' ? ascending : [...ascending].reverse());
      const tied = ids.filter((id) => tie.includes(id));
      expect(tied).toEqual(order === 'asc' ? tie : [...tie].reverse());
      expect(new Set(tied).size).toBe(7);
    },
  );
});

describe('cursors are bound to their filters', () => {
  let user: TestUser;
  let cursor: string;
  let position: KeysetPosition;

  beforeAll(async () => {
    user = await createUser(api);
    for (const title of ['note one', 'note two', 'note three']) await createNote(user, title);
    const first = await list(user, { limit: 1 });
    cursor = first.body.next_cursor;
    expect(cursor).toEqual(expect.any(String));
    const [row] = await getSql()<{ id: string }[]>`
      SELECT id FROM notes WHERE id = ${idsOf(first)[0] as string}`;
    position = { value: '2025-03-01T10:00:00Z', id: row?.id as string };
  });

  async function expect400(query: Query): Promise<ApiResponse> {
    const response = await api.get('/api/v1/notes', { token: user.token, query });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/cursor/i);
    return response;
  }

  it('a cursor from sort=created_at is 400 with sort=title', async () => {
    await expect400({ limit: 1, cursor, sort: 'title' });
  });

  it('is 400 with another order', async () => {
    await expect400({ limit: 1, cursor, order: 'asc' });
  });

  it('is 400 with another archived filter', async () => {
    await expect400({ limit: 1, cursor, archived: 'all' });
    await expect400({ limit: 1, cursor, archived: 'true' });
  });

  it('is 400 with a q it was not made for, or without the q it was made for', async () => {
    await expect400({ limit: 1, cursor, q: 'note' });
    const withQ = await list(user, { limit: 1, q: 'note' });
    const qCursor = withQ.body.next_cursor;
    expect(qCursor).toEqual(expect.any(String));
    await expect400({ limit: 1, cursor: qCursor, q: 'other' });
    await expect400({ limit: 1, cursor: qCursor });
    expect((await list(user, { limit: 1, q: 'note', cursor: qCursor })).body.items).toHaveLength(1);
  });

  it('is allowed when only limit changes', async () => {
    const response = await list(user, { limit: 5, cursor });
    expect(response.body.items).toHaveLength(2);
    expect(response.body.next_cursor).toBeNull();
  });

  it.each([
    ['abc', 'abc'],
    ['base64 of {}', Buffer.from('{}').toString('base64url')],
    ['base64 of {} (standard alphabet)', Buffer.from('{}').toString('base64')],
    ['base64 of a number', Buffer.from('42').toString('base64url')],
  ])('a garbage cursor (%s) is 400', async (_label, garbage) => {
    await expect400({ cursor: garbage });
  });

  it.each([
    ['month 13', '2025-13-45T25:61:61Z'],
    ['year 0', '0000-01-01T00:00:00Z'],
    ['February 30', '2025-02-30T00:00:00Z'],
    ['no time zone', '2025-03-01T10:00:00'],
  ])(
    'a tampered cursor with a timestamp the database cannot read (%s) is 400, not 500',
    async (_label, value) => {
      const tampered = encodeCursor(ListNotesQuery.parse({}), { ...position, value });
      await expect400({ cursor: tampered });
    },
  );

  it('a tampered title cursor with a NUL character is 400, not 500', async () => {
    const query = ListNotesQuery.parse({ sort: 'title' });
    const tampered = encodeCursor(query, { ...position, value: 'note\u0000' });
    await expect400({ sort: 'title', cursor: tampered });
  });

  it('a well-formed cursor made for the same filters is accepted', async () => {
    const made = encodeCursor(ListNotesQuery.parse({}), position);
    expect((await list(user, { cursor: made })).status).toBe(200);
  });
});

describe('q: search in title and content', () => {
  let user: TestUser;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    user = await createUser(api);
    ids.groceries = await createNote(user, 'Groceries', 'milk and eggs');
    ids.weekend = await createNote(user, 'Weekend', 'buy more groceries on Saturday');
    ids.percent = await createNote(user, '100% done');
    ids.underscore = await createNote(user, 'snake_case names');
    ids.backslash = await createNote(user, 'C:\\temp');
    ids.plain = await createNote(user, 'plain', 'nothing special here 100');
  });

  const search = async (q: string, query: Query = {}) =>
    idsOf(await list(user, { q, ...query })).sort();

  it('matches title or content case-insensitively (GROC finds "groceries")', async () => {
    expect(await search('GROC')).toEqual([ids.groceries, ids.weekend].sort());
    expect(await search('saturday')).toEqual([ids.weekend]);
    expect(await search('no such text')).toEqual([]);
  });

  it('matches % and _ literally', async () => {
    expect(await search('%')).toEqual([ids.percent]);
    expect(await search('100%')).toEqual([ids.percent]);
    expect(await search('_')).toEqual([ids.underscore]);
    expect(await search('e_c')).toEqual([ids.underscore]);
    expect(await search('\\')).toEqual([ids.backslash]);
    expect(await search('%', { archived: 'all' })).not.toContain(ids.plain);
  });

  it('trims q, and a blank q means no filter', async () => {
    expect(await search('  GROC  ')).toEqual([ids.groceries, ids.weekend].sort());
    expect(await search('   ')).toHaveLength(6);
  });

  it('pages through matches with the same q', async () => {
    const pages = await walk(user, { q: 'e', limit: 2 });
    const all = pages.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(await search('e', { limit: 100 }));
  });

  it('accepts 200 chars and rejects 201 with 422 on query.q', async () => {
    expect(await search('q'.repeat(200))).toEqual([]);
    const response = await api.get('/api/v1/notes', {
      token: user.token,
      query: { q: 'q'.repeat(201) },
    });
    expect(response.status).toBe(422);
    expect(fieldsOf(response)).toContain('query.q');
  });

  it('rejects a NUL character with 422, not 500', async () => {
    const response = await api.get('/api/v1/notes', { token: user.token, query: { q: 'a\u0000' } });
    expect(response.status).toBe(422);
    expect(fieldsOf(response)).toContain('query.q');
  });
});

describe('query validation', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await createUser(api);
    for (let i = 0; i < 3; i += 1) await createNote(user, `Note ${i}`);
  });

  it.each([
    ['sort', { sort: 'owner_id' }, 'query.sort'],
    ['sort', { sort: 'id; DROP TABLE notes' }, 'query.sort'],
    ['order', { order: 'up' }, 'query.order'],
    ['archived', { archived: 'maybe' }, 'query.archived'],
    ['limit', { limit: 0 }, 'query.limit'],
    ['limit', { limit: 101 }, 'query.limit'],
    ['limit', { limit: -1 }, 'query.limit'],
    ['limit', { limit: 2.5 }, 'query.limit'],
    ['limit', { limit: 'ten' }, 'query.limit'],
  ] as const)('a bad %s (%o) is 422 on %s', async (_name, query, field) => {
    const response = await api.get('/api/v1/notes', { token: user.token, query });
    expect(response.status).toBe(422);
    expect(fieldsOf(response)).toEqual([field]);
  });

  it.each([1, 100])('limit=%i is accepted', async (limit) => {
    const response = await list(user, { limit });
    expect(response.body.limit).toBe(limit);
    expect(response.body.items).toHaveLength(Math.min(limit, 3));
  });

  it('ignores unknown query parameters', async () => {
    expect((await list(user, { owner_id: randomUUID() })).body.items).toHaveLength(3);
  });

  it('needs a token', async () => {
    const response = await api.get('/api/v1/notes');
    expect(response.status).toBe(401);
  });
});

describe("another user's notes", () => {
  it('never appear in a list, whatever the filters', async () => {
    const alice = await createUser(api);
    const bob = await createUser(api);
    const aliceIds = [
      await createNote(alice, 'shared word alpha'),
      await createNote(alice, 'shared word beta'),
    ];
    await archive(alice, aliceIds[0] as string);
    const bobId = await createNote(bob, 'shared word gamma');
    for (const query of [
      {},
      { archived: 'all' },
      { archived: 'true' },
      { q: 'shared' },
      { q: 'alpha', archived: 'all' },
      { sort: 'title', order: 'asc' },
      { sort: 'updated_at', limit: 100 },
    ] as Query[]) {
      const bobs = idsOf(await list(bob, { archived: 'all', ...query }));
      for (const id of aliceIds) expect(bobs).not.toContain(id);
      const alices = idsOf(await list(alice, { archived: 'all', ...query }));
      expect(alices).not.toContain(bobId);
    }
    expect(idsOf(await list(bob, { archived: 'all' }))).toEqual([bobId]);
  });
});

describe('query plan', () => {
  /**
   * Runs `listNotes` of the repository on a client that records the SQL it sends, then
   * `EXPLAIN`s exactly that statement with the same parameters.
   */
  async function explainListQuery(
    ownerId: string,
    input: Record<string, string>,
    after: KeysetPosition | null,
  ): Promise<string> {
    const statements: { query: string; parameters: unknown[] }[] = [];
    const sql = postgres(getConfig().DATABASE_URL as string, {
      max: 1,
      prepare: false,
      onnotice: () => {},
      debug: (_connection, query, parameters) => statements.push({ query, parameters }),
    });
    try {
      await listNotes(ownerId, ListNotesQuery.parse(input), after, sql);
      // The client's own catalogue query (array types) comes first; ours is the one on notes.
      const ours = statements.filter((s) => /\bFROM notes\b/.test(s.query));
      expect(ours).toHaveLength(1);
      const [statement] = ours;
      const plan = await sql.unsafe<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN ${statement?.query}`,
        statement?.parameters as postgres.ParameterOrJSON<never>[],
      );
      return plan.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await sql.end({ timeout: 5 });
    }
  }

  let user: TestUser;

  beforeAll(async () => {
    user = await createUser(api);
    const sql = getSql();
    await sql`
      INSERT INTO notes (owner_id, title, content, created_at, updated_at, archived_at)
      SELECT ${user.id}, 'Bulk note ' || g, 'content ' || g,
             now() - g * interval '1 minute', now() - g * interval '1 minute',
             CASE WHEN g % 10 = 0 THEN now() END
      FROM generate_series(1, 2000) AS g`;
    await sql`ANALYZE notes`;
  });

  it('the first page of the default list is an index scan of notes_owner_created_idx', async () => {
    const plan = await explainListQuery(user.id, {}, null);
    expect(plan).toMatch(/Index Scan (Backward )?using notes_owner_created_idx on notes/);
    expect(plan).not.toMatch(/Seq Scan/);
    expect(plan).not.toMatch(/\bSort\b/);
  });

  it('a later page (keyset predicate) uses the same index without sorting', async () => {
    const [row] = await getSql()<{ id: string; ts: string }[]>`
      SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts
      FROM notes WHERE owner_id = ${user.id} ORDER BY created_at DESC, id DESC OFFSET 1000 LIMIT 1`;
    const plan = await explainListQuery(
      user.id,
      {},
      { value: row?.ts as string, id: row?.id as string },
    );
    expect(plan).toMatch(/Index Scan (Backward )?using notes_owner_created_idx on notes/);
    expect(plan).not.toMatch(/Seq Scan/);
    expect(plan).not.toMatch(/\bSort\b/);
  });

  it('the page the API serves is the page of that query', async () => {
    const response = await list(user, { limit: 5 });
    const [first] = await getSql()<{ id: string }[]>`
      SELECT id FROM notes WHERE owner_id = ${user.id} AND archived_at IS NULL
      ORDER BY created_at DESC, id DESC LIMIT 1`;
    expect(idsOf(response)[0]).toBe(first?.id);
  });
});
