import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { NUL_CHARACTER_CODE } from '../../shared/http/validation.js';
import { Timestamp } from '../../shared/schemas.js';
import { type ApiResponse, useApi } from '../helpers/api.js';
import { createUser, type TestUser, uniqueEmail } from '../helpers/users.js';

const api = useApi();
const NUL = '\u0000';
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  [admin, user] = await Promise.all([createUser(api, 'admin'), createUser(api)]);
});

/** A 422 whose errors name `field` with `code` (when given). */
function expectFieldError(response: ApiResponse, field: string, code?: string): void {
  expect(response.status, response.text).toBe(422);
  expect(response.body.errors, response.text).toContainEqual(
    expect.objectContaining({ field, ...(code ? { code } : {}) }),
  );
}

const product = () => `P-${randomUUID().slice(0, 8)}`;
const inventoryUpdate = (items: unknown[]) =>
  api.post('/api/v1/inventory/update', { token: admin.token, body: { items } });
const inventoryQuery = (query: Record<string, string>) =>
  api.get('/api/v1/inventory/query', { token: user.token, query });

describe('timestamps: one shared rule (RFC 3339, offset within ±15:59, years 1–9999 in UTC)', () => {
  it('an offset beyond ±15:59 is 422 in inventory update and query (was 500)', async () => {
    const id = product();
    for (const timestamp of ['2024-01-01T00:00:00+20:00', '2024-01-01T00:00:00-16:00']) {
      const update = await inventoryUpdate([{ productid: id, quantity: 1, timestamp }]);
      expectFieldError(update, 'items.0.timestamp');
      for (const bound of ['starttimestamp', 'endtimestamp']) {
        expectFieldError(
          await inventoryQuery({ productid: id, [bound]: timestamp }),
          `query.${bound}`,
        );
      }
    }
    const [row] = await getSql()`
      SELECT count(*)::int AS n FROM inventory_records WHERE productid = ${id}`;
    expect(row?.n).toBe(0);
  });

  it('stores the widest offsets PostgreSQL accepts as the right instant', async () => {
    const id = product();
    const written = ['2024-01-01T15:59:00+15:59', '2024-01-01T00:00:00-15:59'];
    expect(
      (
        await inventoryUpdate(
          written.map((timestamp) => ({ productid: id, quantity: 1, timestamp })),
        )
      ).status,
    ).toBe(201);
    const page = await inventoryQuery({
      productid: id,
      starttimestamp: '2024-01-01T00:00:00+15:59',
      endtimestamp: '2024-01-01T15:59:00-00:00',
    });
    expect(page.status).toBe(200);
    expect(page.body.items.map((r: { timestamp: string }) => r.timestamp)).toEqual([
      '2024-01-01T00:00:00.000000Z',
      '2024-01-01T15:59:00.000000Z',
    ]);
  });

  it('agrees with PostgreSQL: every accepted timestamp is the instant timestamptz reads', async () => {
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    const sample = fc
      .record({
        seconds: fc.integer({ min: -62_135_596_800, max: 253_402_300_799 }),
        micros: fc.integer({ min: 0, max: 999_999 }),
        digits: fc.integer({ min: 0, max: 6 }),
        offset: fc.integer({ min: -959, max: 959 }),
      })
      .map(({ seconds, micros, digits, offset }) => {
        const local = new Date(seconds * 1000 + offset * 60_000).toISOString();
        const fraction = digits ? `.${pad(micros, 6).slice(0, digits)}` : '';
        const abs = Math.abs(offset);
        const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
        return `${local.slice(0, 19)}${fraction}${zone}`;
      })
      .filter((text) => /^\d{4}-/.test(text) && !text.startsWith('0000'));
    const inputs = fc.sample(sample, { numRuns: 300, seed: 20240101 });
    const utc = inputs.map((text) => Timestamp.parse(text));
    const rows = await getSql()`
      SELECT bool_and(i::timestamptz = u::timestamptz) AS same
      FROM unnest(${inputs}::text[], ${utc}::text[]) AS t(i, u)`;
    expect(rows[0]?.same).toBe(true);
    // And PostgreSQL refuses the offsets the schema refuses.
    await expect(getSql()`SELECT '2024-01-01T00:00:00+16:00'::timestamptz`).rejects.toThrow(
      /time zone displacement out of range/,
    );
  });
});

describe('strings never carry U+0000: one rule for path, query and body', () => {
  it('a NUL in register name is 422 naming the field, and no account is made (was 500)', async () => {
    const email = uniqueEmail('nul');
    const response = await api.post('/api/v1/auth/register', {
      body: { email, password: 'correct horse battery', name: `Ada${NUL}` },
    });
    expectFieldError(response, 'name', NUL_CHARACTER_CODE);
    const [row] = await getSql()`SELECT count(*)::int AS n FROM users WHERE email = ${email}`;
    expect(row?.n).toBe(0);
  });

  it('action=%00 on the audit log is 422 (was 500)', async () => {
    const response = await api.get('/api/v1/admin/audit-log', {
      token: admin.token,
      query: { action: NUL },
    });
    expectFieldError(response, 'query.action', NUL_CHARACTER_CODE);
  });

  it('is the same rule in every input of every kind', async () => {
    const note = await api.post('/api/v1/notes', { token: user.token, body: { title: 'T' } });
    expect(note.status).toBe(201);
    const cases: [Promise<ApiResponse>, string][] = [
      [api.post('/api/v1/notes', { token: user.token, body: { title: `a${NUL}b` } }), 'title'],
      [
        api.patch(`/api/v1/notes/${note.body.id}`, {
          token: user.token,
          body: { content: `x${NUL}` },
        }),
        'content',
      ],
      [api.get('/api/v1/notes', { token: user.token, query: { q: NUL } }), 'query.q'],
      [api.get('/api/v1/notes', { token: user.token, query: { cursor: NUL } }), 'query.cursor'],
      [inventoryQuery({ productid: `A${NUL}` }), 'query.productid'],
      [api.get('/docs/assets/%00'), 'path.file'],
      [api.get(`/api/v1/notes/${randomUUID()}%00`, { token: user.token }), 'path.id'],
      [
        api.post('/api/v1/auth/login', {
          rawBody: `username=a%00%40example.com&password=x`,
          contentType: 'application/x-www-form-urlencoded',
        }),
        'username',
      ],
      [api.post('/api/v1/auth/refresh', { body: { refresh_token: `r${NUL}` } }), 'refresh_token'],
    ];
    for (const [pending, field] of cases) {
      expectFieldError(await pending, field, NUL_CHARACTER_CODE);
    }
  });

  it('query parameters a route does not read are ignored, NUL or not', async () => {
    const response = await api.get('/api/v1/notes', {
      token: user.token,
      query: { utm_source: NUL },
    });
    expect(response.status).toBe(200);
  });
});

describe('integers in query strings are plain decimal digits', () => {
  const routes: [string, string, () => string, Record<string, string>][] = [
    ['/api/v1/notes', 'limit', () => user.token, {}],
    ['/api/v1/inventory/query', 'limit', () => user.token, { productid: 'ABC-1' }],
    ['/api/v1/inventory/query', 'offset', () => user.token, { productid: 'ABC-1' }],
    ['/api/v1/admin/audit-log', 'limit', () => admin.token, {}],
  ];
  it.each(routes)(
    '%s ?%s= refuses 0x10, 1e1, +5, " 5", 5.0 and empty (422)',
    async (path, name, token, base) => {
      for (const value of ['0x10', '1e1', '+5', ' 5', '5.0', '', '-1', '5 ']) {
        const response = await api.get(path, { token: token(), query: { ...base, [name]: value } });
        expectFieldError(response, `query.${name}`);
      }
      const ok = await api.get(path, { token: token(), query: { ...base, [name]: '05' } });
      expect(ok.status, ok.text).toBe(200);
    },
  );
});

describe('JSON bodies are UTF-8', () => {
  it('a charset other than UTF-8 is 415 and stores nothing; utf-8 in any case is read', async () => {
    const title = `charset-${randomUUID()}`;
    for (const contentType of [
      'application/json; charset=latin1',
      'application/json; charset=iso-8859-1',
      'application/json;charset="utf-16"',
    ]) {
      const response = await api.post('/api/v1/notes', {
        token: user.token,
        body: { title },
        contentType,
      });
      expect(response.status, contentType).toBe(415);
    }
    const [row] = await getSql()`SELECT count(*)::int AS n FROM notes WHERE title = ${title}`;
    expect(row?.n).toBe(0);
    for (const contentType of [
      'application/json; charset=UTF-8',
      'application/json;charset=Utf-8',
    ]) {
      const response = await api.post('/api/v1/notes', {
        token: user.token,
        body: { title },
        contentType,
      });
      expect(response.status, contentType).toBe(201);
    }
  });
});

describe('docs assets', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    '/docs/assets/%s is 404 (was 500)',
    async (name) => {
      expect((await api.get(`/docs/assets/${name}`)).status).toBe(404);
    },
  );
});

describe('found by the fuzz suite', () => {
  it('a body of many long unknown keys gets a bounded 422 (20 errors, short field names)', async () => {
    const body: Record<string, string> = { title: 'x' };
    for (let i = 0; i < 5000; i++) body[`${'k'.repeat(150)}${i}`] = 'v';
    const response = await api.post('/api/v1/notes', { token: user.token, body });
    expect(response.status).toBe(422);
    expect(response.body.errors).toHaveLength(20);
    for (const error of response.body.errors) {
      expect(error.code).toBe('unknown_field');
      expect(error.field.length).toBeLessThanOrEqual(200);
    }
    expect(response.text.length).toBeLessThan(10_000);
  });

  it('an audit-log cursor naming an id beyond bigint is 400, not 500', async () => {
    const page = await api.get('/api/v1/admin/audit-log', { token: admin.token });
    expect(page.status).toBe(200);
    // A cursor with the right filter fingerprint (no filters) and an id past 2^63 - 1.
    const fingerprint = (await import('node:crypto'))
      .createHash('sha256')
      .update(JSON.stringify([null, null]))
      .digest('base64url')
      .slice(0, 16);
    const cursor = Buffer.from(
      JSON.stringify({ f: fingerprint, id: '9999999999999999999' }),
    ).toString('base64url');
    const response = await api.get('/api/v1/admin/audit-log', {
      token: admin.token,
      query: { cursor },
    });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/cursor/i);
  });

  it('a still-valid token of a deleted account creates nothing: 404, as /users/me answers', async () => {
    const gone = await createUser(api);
    await getSql()`DELETE FROM users WHERE id = ${gone.id}`;
    const created = await api.post('/api/v1/notes', { token: gone.token, body: { title: 't' } });
    expect(created.status).toBe(404);
    expect((await api.get('/api/v1/users/me', { token: gone.token })).status).toBe(404);
    const [count] =
      await getSql()`SELECT count(*)::int AS n FROM notes WHERE owner_id = ${gone.id}`;
    expect(count?.n).toBe(0);
  });
});
