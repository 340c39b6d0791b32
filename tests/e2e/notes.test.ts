import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { type ApiResponse, useApi } from '../helpers/api.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();

/** RFC 3339 in UTC with a `Z`, as the API promises for every timestamp. */
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const notePath = (id: string) => `/api/v1/notes/${id}`;
const restorePath = (id: string) => `/api/v1/notes/restore/${id}`;

async function createNote(
  user: TestUser,
  body: Record<string, unknown> = { title: 'A note', content: 'Some content' },
): Promise<ApiResponse> {
  const response = await api.post('/api/v1/notes', { token: user.token, body });
  expect(response.status).toBe(201);
  return response;
}

async function getNote(user: TestUser, id: string): Promise<ApiResponse> {
  const response = await api.get(notePath(id), { token: user.token });
  expect(response.status).toBe(200);
  return response;
}

async function archive(user: TestUser, id: string): Promise<void> {
  expect((await api.delete(notePath(id), { token: user.token })).status).toBe(204);
}

/** The stored row (microsecond timestamps), straight from the database. */
async function storedNote(id: string) {
  const [row] = await getSql()<
    {
      title: string;
      content: string;
      version: number;
      updated_at: Date;
      archived_at: Date | null;
    }[]
  >`SELECT title, content, version, updated_at, archived_at FROM notes WHERE id = ${id}`;
  return row;
}

async function storedUpdatedAtMicros(id: string): Promise<bigint> {
  const [row] = await getSql()<{ us: string }[]>`
    SELECT (extract(epoch FROM updated_at) * 1000000)::bigint::text AS us
    FROM notes WHERE id = ${id}`;
  return BigInt(row?.us ?? '0');
}

async function countNotes(ownerId: string): Promise<number> {
  const [row] = await getSql()<{ n: number }[]>`
    SELECT count(*)::int AS n FROM notes WHERE owner_id = ${ownerId}`;
  return row?.n ?? -1;
}

function fieldsOf(response: ApiResponse): string[] {
  return (response.body.errors ?? []).map((e: { field: string }) => e.field);
}

/** A problem body without the parts that differ per request. */
function problemShape(response: ApiResponse) {
  const { instance: _instance, request_id: _requestId, ...rest } = response.body;
  return { status: response.status, keys: Object.keys(response.body).sort(), ...rest };
}

describe('POST /api/v1/notes', () => {
  it('creates a note: 201, Location, ETag "1", trimmed title, defaults, RFC 3339 timestamps', async () => {
    const user = await createUser(api);
    const response = await createNote(user, { title: '  Groceries  ' });
    const note = response.body;
    expect(response.headers.get('location')).toBe(notePath(note.id));
    expect(response.headers.get('etag')).toBe('"1"');
    expect(note).toEqual({
      id: expect.any(String),
      title: 'Groceries',
      content: '',
      archived: false,
      version: 1,
      created_at: expect.stringMatching(RFC3339_UTC),
      updated_at: expect.stringMatching(RFC3339_UTC),
      archived_at: null,
    });
    expect(note.updated_at).toBe(note.created_at);
    const stored = await storedNote(note.id);
    expect(stored).toMatchObject({
      title: 'Groceries',
      content: '',
      version: 1,
      archived_at: null,
    });
    // The Location header points at the same note.
    const fetched = await getNote(user, note.id);
    expect(fetched.body).toEqual(note);
  });

  it('keeps the given content', async () => {
    const user = await createUser(api);
    const response = await createNote(user, { title: 'T', content: 'Milk, eggs' });
    expect(response.body.content).toBe('Milk, eggs');
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['201 chars', 'x'.repeat(201)],
  ])('rejects a %s title with 422 and stores nothing', async (_label, title) => {
    const user = await createUser(api);
    const response = await api.post('/api/v1/notes', { token: user.token, body: { title } });
    expect(response.status).toBe(422);
    expect(fieldsOf(response)).toContain('title');
    expect(await countNotes(user.id)).toBe(0);
  });

  it('rejects a missing title with 422', async () => {
    const user = await createUser(api);
    const response = await api.post('/api/v1/notes', {
      token: user.token,
      body: { content: 'x' },
    });
    expect(response.status).toBe(422);
    expect(fieldsOf(response)).toContain('title');
  });

  it('accepts a title of exactly 200 chars (also with surrounding blanks, which are trimmed)', async () => {
    const user = await createUser(api);
    const title = 't'.repeat(200);
    expect((await createNote(user, { title })).body.title).toBe(title);
    expect((await createNote(user, { title: `  ${title}  ` })).body.title).toBe(title);
  });

  it('rejects content of 20001 chars with 422 and accepts 20000', async () => {
    const user = await createUser(api);
    const tooLong = await api.post('/api/v1/notes', {
      token: user.token,
      body: { title: 'Long', content: 'c'.repeat(20001) },
    });
    expect(tooLong.status).toBe(422);
    expect(fieldsOf(tooLong)).toContain('content');
    expect(await countNotes(user.id)).toBe(0);
    const ok = await createNote(user, { title: 'Long', content: 'c'.repeat(20000) });
    expect(ok.body.content).toHaveLength(20000);
  });

  it.each([
    ['id', randomUUID()],
    ['owner_id', randomUUID()],
    ['version', 7],
    ['archived_at', '2024-01-01T00:00:00Z'],
  ])('rejects the server-owned field %s with 422 and stores nothing', async (field, value) => {
    const user = await createUser(api);
    const response = await api.post('/api/v1/notes', {
      token: user.token,
      body: { title: 'Sneaky', [field]: value },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors).toContainEqual({
      field,
      message: expect.any(String),
      code: 'unknown_field',
    });
    expect(await countNotes(user.id)).toBe(0);
  });
});

describe('text the database cannot store', () => {
  it('a NUL character (U+0000) in title or content is 422, not 500, on POST, PUT and PATCH', async () => {
    const user = await createUser(api);
    const cases: [Record<string, string>, string][] = [
      [{ title: 'a\u0000b' }, 'title'],
      [{ title: 'ok', content: 'x\u0000y' }, 'content'],
    ];
    for (const [body, field] of cases) {
      const response = await api.post('/api/v1/notes', { token: user.token, body });
      expect(response.status).toBe(422);
      expect(fieldsOf(response)).toEqual([field]);
    }
    expect(await countNotes(user.id)).toBe(0);
    const created = (await createNote(user)).body;
    const put = await api.put(notePath(created.id), {
      token: user.token,
      body: { title: 'T', content: '\u0000' },
    });
    expect(put.status).toBe(422);
    const patch = await api.patch(notePath(created.id), {
      token: user.token,
      body: { title: '\u0000' },
    });
    expect(patch.status).toBe(422);
    expect((await getNote(user, created.id)).body).toEqual(created);
  });

  it('counts title length in characters: 200 emoji are accepted, 201 are not', async () => {
    const user = await createUser(api);
    const title = '\u{1F600}'.repeat(200);
    expect((await createNote(user, { title })).body.title).toBe(title);
    const tooLong = await api.post('/api/v1/notes', {
      token: user.token,
      body: { title: `${title}\u{1F600}` },
    });
    expect(tooLong.status).toBe(422);
  });
});

describe('GET /api/v1/notes/{id}', () => {
  it('answers 200 with the note and its ETag', async () => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    const response = await getNote(user, created.id);
    expect(response.body).toEqual(created);
    expect(response.headers.get('etag')).toBe('"1"');
  });

  it('keeps archived notes readable', async () => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    await archive(user, created.id);
    const response = await getNote(user, created.id);
    expect(response.body).toMatchObject({
      id: created.id,
      archived: true,
      version: 2,
      archived_at: expect.stringMatching(RFC3339_UTC),
    });
    expect(response.headers.get('etag')).toBe('"2"');
  });

  it('answers 404 for an unknown id and 422 for an id that is not a uuid', async () => {
    const user = await createUser(api);
    expect((await api.get(notePath(randomUUID()), { token: user.token })).status).toBe(404);
    const bad = await api.get(notePath('not-a-uuid'), { token: user.token });
    expect(bad.status).toBe(422);
    expect(fieldsOf(bad)).toContain('path.id');
  });
});

describe('PUT /api/v1/notes/{id}', () => {
  it('replaces title and content, bumps version and updated_at, sends the new ETag', async () => {
    const user = await createUser(api);
    const created = (await createNote(user, { title: 'Old', content: 'old content' })).body;
    const before = await storedUpdatedAtMicros(created.id);
    const response = await api.put(notePath(created.id), {
      token: user.token,
      body: { title: '  New  ', content: 'new content' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"2"');
    expect(response.body).toMatchObject({
      id: created.id,
      title: 'New',
      content: 'new content',
      version: 2,
      archived: false,
      created_at: created.created_at,
    });
    expect(response.body.updated_at >= created.updated_at).toBe(true);
    expect(await storedUpdatedAtMicros(created.id)).toBeGreaterThan(before);
    expect((await getNote(user, created.id)).body).toEqual(response.body);
  });

  it('is a full replacement: content "" clears the content', async () => {
    const user = await createUser(api);
    const created = (await createNote(user, { title: 'T', content: 'something' })).body;
    const response = await api.put(notePath(created.id), {
      token: user.token,
      body: { title: 'T', content: '' },
    });
    expect(response.status).toBe(200);
    expect(response.body.content).toBe('');
  });

  it.each([
    ['content', { title: 'Only title' }],
    ['title', { content: 'Only content' }],
  ])('rejects a body without %s with 422 and changes nothing', async (missing, body) => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    const response = await api.put(notePath(created.id), { token: user.token, body });
    expect(response.status).toBe(422);
    expect(fieldsOf(response)).toContain(missing);
    expect((await getNote(user, created.id)).body).toEqual(created);
  });

  it('rejects server-owned fields with 422', async () => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    const response = await api.put(notePath(created.id), {
      token: user.token,
      body: { title: 'T', content: 'C', version: 9 },
    });
    expect(response.status).toBe(422);
    expect(fieldsOf(response)).toContain('version');
    expect((await getNote(user, created.id)).body).toEqual(created);
  });

  it('answers 404 for an unknown id', async () => {
    const user = await createUser(api);
    const response = await api.put(notePath(randomUUID()), {
      token: user.token,
      body: { title: 'T', content: 'C' },
    });
    expect(response.status).toBe(404);
  });
});

/** The If-Match rules shared by PUT and PATCH. */
describe.each([
  ['PUT', (n: number) => ({ title: `Title ${n}`, content: `Content ${n}` })],
  ['PATCH', (n: number) => ({ title: `Title ${n}` })],
] as const)('%s If-Match', (method, bodyFor) => {
  const write = (user: TestUser, id: string, n: number, ifMatch?: string) =>
    api.request(method, notePath(id), {
      token: user.token,
      body: bodyFor(n),
      ...(ifMatch === undefined ? {} : { headers: { 'if-match': ifMatch } }),
    });

  it('succeeds with the current strong ETag and then the next one', async () => {
    const user = await createUser(api);
    const { id } = (await createNote(user)).body;
    const first = await write(user, id, 1, '"1"');
    expect(first.status).toBe(200);
    expect(first.body.version).toBe(2);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toBe('"2"');
    const second = await write(user, id, 2, etag);
    expect(second.status).toBe(200);
    expect(second.body.version).toBe(3);
  });

  it('answers 412 for a stale ETag and changes nothing', async () => {
    const user = await createUser(api);
    const { id } = (await createNote(user)).body;
    expect((await write(user, id, 1, '"1"')).status).toBe(200);
    const current = (await getNote(user, id)).body;
    const stale = await write(user, id, 2, '"1"');
    expect(stale.status).toBe(412);
    expect((await getNote(user, id)).body).toEqual(current);
  });

  it('answers 412 for a weak ETag even when its version is current (strong comparison)', async () => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    const weak = await write(user, created.id, 1, 'W/"1"');
    expect(weak.status).toBe(412);
    expect((await getNote(user, created.id)).body).toEqual(created);
  });

  it('accepts a list that contains the current strong ETag', async () => {
    const user = await createUser(api);
    const { id } = (await createNote(user)).body;
    const response = await write(user, id, 1, 'W/"1", "5", "1"');
    expect(response.status).toBe(200);
    expect(response.body.version).toBe(2);
  });

  it('accepts * (any current version)', async () => {
    const user = await createUser(api);
    const { id } = (await createNote(user)).body;
    expect((await write(user, id, 1)).status).toBe(200);
    const response = await write(user, id, 2, '*');
    expect(response.status).toBe(200);
    expect(response.body.version).toBe(3);
  });

  it.each(['abc', '1', '"1', 'W/1'])(
    'answers 400 for the malformed If-Match %s and changes nothing',
    async (header) => {
      const user = await createUser(api);
      const created = (await createNote(user)).body;
      const response = await write(user, created.id, 1, header);
      expect(response.status).toBe(400);
      expect((await getNote(user, created.id)).body).toEqual(created);
    },
  );

  it('answers 409 on an archived note and changes nothing (with and without If-Match)', async () => {
    const user = await createUser(api);
    const { id } = (await createNote(user)).body;
    await archive(user, id);
    const archived = (await getNote(user, id)).body;
    expect(archived.version).toBe(2);
    expect((await write(user, id, 1)).status).toBe(409);
    expect((await write(user, id, 1, '"2"')).status).toBe(409);
    expect((await write(user, id, 1, '*')).status).toBe(409);
    expect((await getNote(user, id)).body).toEqual(archived);
    expect(await storedNote(id)).toMatchObject({ title: archived.title, version: 2 });
  });
});

describe('PATCH /api/v1/notes/{id}', () => {
  it('rejects {} with 422 and changes nothing', async () => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    const response = await api.patch(notePath(created.id), { token: user.token, body: {} });
    expect(response.status).toBe(422);
    expect((await getNote(user, created.id)).body).toEqual(created);
  });

  it('rejects an empty title and server-owned fields with 422', async () => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    for (const body of [{ title: '  ' }, { archived_at: null }, { id: randomUUID() }]) {
      const response = await api.patch(notePath(created.id), { token: user.token, body });
      expect(response.status).toBe(422);
    }
    expect((await getNote(user, created.id)).body).toEqual(created);
  });

  it('changes only the title', async () => {
    const user = await createUser(api);
    const created = (await createNote(user, { title: 'Before', content: 'Kept' })).body;
    const response = await api.patch(notePath(created.id), {
      token: user.token,
      body: { title: ' After ' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"2"');
    expect(response.body).toMatchObject({ title: 'After', content: 'Kept', version: 2 });
  });

  it('changes only the content', async () => {
    const user = await createUser(api);
    const created = (await createNote(user, { title: 'Kept', content: 'Before' })).body;
    const response = await api.patch(notePath(created.id), {
      token: user.token,
      body: { content: 'After' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ title: 'Kept', content: 'After', version: 2 });
  });

  it('sets the content to "" (an empty string is a value, not an absence)', async () => {
    const user = await createUser(api);
    const created = (await createNote(user, { title: 'Kept', content: 'Before' })).body;
    const before = await storedUpdatedAtMicros(created.id);
    const response = await api.patch(notePath(created.id), {
      token: user.token,
      body: { content: '' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ title: 'Kept', content: '', version: 2 });
    expect(await storedNote(created.id)).toMatchObject({ content: '', version: 2 });
    expect(await storedUpdatedAtMicros(created.id)).toBeGreaterThan(before);
  });
});

describe('DELETE /api/v1/notes/{id} and POST /api/v1/notes/restore/{id}', () => {
  it('archives with 204 (empty body); a second DELETE is 204 and bumps nothing', async () => {
    const user = await createUser(api);
    const { id } = (await createNote(user)).body;
    const first = await api.delete(notePath(id), { token: user.token });
    expect(first.status).toBe(204);
    expect(first.text).toBe('');
    const archived = (await getNote(user, id)).body;
    expect(archived).toMatchObject({
      archived: true,
      version: 2,
      archived_at: expect.stringMatching(RFC3339_UTC),
    });
    const second = await api.delete(notePath(id), { token: user.token });
    expect(second.status).toBe(204);
    expect((await getNote(user, id)).body).toEqual(archived);
  });

  it('answers 404 when deleting an unknown id', async () => {
    const user = await createUser(api);
    expect((await api.delete(notePath(randomUUID()), { token: user.token })).status).toBe(404);
  });

  it('restoring an active note is 200 and changes nothing', async () => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    const response = await api.post(restorePath(created.id), { token: user.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(created);
    expect(response.headers.get('etag')).toBe('"1"');
    expect((await getNote(user, created.id)).body).toEqual(created);
  });

  it('restoring an archived note is 200, archived false and bumps the version', async () => {
    const user = await createUser(api);
    const created = (await createNote(user)).body;
    await archive(user, created.id);
    const response = await api.post(restorePath(created.id), { token: user.token });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"3"');
    expect(response.body).toMatchObject({
      id: created.id,
      title: created.title,
      content: created.content,
      archived: false,
      archived_at: null,
      version: 3,
    });
    expect((await getNote(user, created.id)).body).toEqual(response.body);
    // Editable again.
    const edit = await api.patch(notePath(created.id), {
      token: user.token,
      body: { title: 'Back' },
      headers: { 'if-match': '"3"' },
    });
    expect(edit.status).toBe(200);
  });

  it('answers 404 when restoring an unknown id', async () => {
    const user = await createUser(api);
    expect((await api.post(restorePath(randomUUID()), { token: user.token })).status).toBe(404);
  });
});

describe("another user's note", () => {
  const attempts: [string, (token: string, id: string) => Promise<ApiResponse>][] = [
    ['GET', (token, id) => api.get(notePath(id), { token })],
    ['PUT', (token, id) => api.put(notePath(id), { token, body: { title: 'x', content: 'y' } })],
    [
      'PUT with If-Match',
      (token, id) =>
        api.put(notePath(id), {
          token,
          body: { title: 'x', content: 'y' },
          headers: { 'if-match': '"1"' },
        }),
    ],
    ['PATCH', (token, id) => api.patch(notePath(id), { token, body: { title: 'x' } })],
    ['DELETE', (token, id) => api.delete(notePath(id), { token })],
    ['POST restore', (token, id) => api.post(restorePath(id), { token })],
  ];

  it.each(attempts)(
    '%s answers 404 like an unknown id and leaves it unchanged',
    async (_, call) => {
      const owner = await createUser(api);
      const other = await createUser(api);
      const note = (await createNote(owner)).body;
      const theirs = await call(other.token, note.id);
      const unknown = await call(other.token, randomUUID());
      expect(theirs.status).toBe(404);
      expect(problemShape(theirs)).toEqual(problemShape(unknown));
      expect((await getNote(owner, note.id)).body).toEqual(note);
    },
  );

  it('DELETE and restore by another user do not touch an archived note either', async () => {
    const owner = await createUser(api);
    const other = await createUser(api);
    const { id } = (await createNote(owner)).body;
    await archive(owner, id);
    const archived = (await getNote(owner, id)).body;
    expect((await api.post(restorePath(id), { token: other.token })).status).toBe(404);
    expect((await api.delete(notePath(id), { token: other.token })).status).toBe(404);
    expect((await getNote(owner, id)).body).toEqual(archived);
  });
});

describe('concurrent writers', () => {
  it('of 10 PUTs with If-Match "1" exactly one wins (200) and nine get 412', async () => {
    const user = await createUser(api);
    const { id } = (await createNote(user)).body;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.put(notePath(id), {
          token: user.token,
          body: { title: `Writer ${i}`, content: `By writer ${i}` },
          headers: { 'if-match': '"1"' },
        }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(412)]);
    const winner = responses.find((r) => r.status === 200);
    const final = (await getNote(user, id)).body;
    expect(final.version).toBe(2);
    expect(final).toEqual(winner?.body);
  });
});
