import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { useApi } from '../helpers/api.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  [admin, user] = await Promise.all([createUser(api, 'admin'), createUser(api)]);
});

/** A product id nobody else in the suite uses. */
const product = () => `P-${randomUUID().slice(0, 8)}`;
const item = (productid: string, overrides: Record<string, unknown> = {}) => ({
  productid,
  quantity: 5,
  timestamp: '2024-01-01T10:00:00Z',
  ...overrides,
});
const update = (items: unknown[], token = admin.token) =>
  api.post('/api/v1/inventory/update', { token, body: { items } });
const query = (params: Record<string, string | number>, token = user.token) =>
  api.get('/api/v1/inventory/query', { token, query: params });
const stored = async (productid: string) =>
  (
    await getSql()`SELECT count(*)::int AS n FROM inventory_records WHERE productid = ${productid}`
  )[0]?.n;

describe('POST /api/v1/inventory/update', () => {
  it('stores a batch, committed before the empty 201', async () => {
    const id = product();
    const response = await update([
      item(id),
      item(id, { quantity: 7, timestamp: '2024-01-01T11:00:00Z' }),
    ]);
    expect(response.status).toBe(201);
    expect(response.text).toBe('');
    expect(await stored(id)).toBe(2);
  });

  it('accepts 1 and 1000 items; refuses 0 and 1001 (422), storing nothing', async () => {
    const id = product();
    expect((await update([item(id)])).status).toBe(201);
    expect(
      (await update(Array.from({ length: 1000 }, (_, i) => item(id, { quantity: i })))).status,
    ).toBe(201);
    expect(await stored(id)).toBe(1001);
    const other = product();
    const none = await update([]);
    expect(none.status).toBe(422);
    expect(none.body.errors[0].field).toBe('items');
    expect((await update(Array.from({ length: 1001 }, () => item(other)))).status).toBe(422);
    expect(await stored(other)).toBe(0);
  });

  it('productid: 64 chars ok, 65 chars, empty, bad characters and NUL are 422 (never 500)', async () => {
    const ok = `A${'b'.repeat(63)}`;
    expect((await update([item(ok)])).status).toBe(201);
    for (const bad of [
      `A${'b'.repeat(64)}`,
      '',
      '-leading',
      'has space',
      'slash/no',
      'nul\u0000x',
      'ü',
    ]) {
      const response = await update([item(bad)]);
      expect(response.status, JSON.stringify(bad)).toBe(422);
      expect(response.body.errors[0].field).toBe('items.0.productid');
    }
  });

  it('quantity: 0 and 2147483647 ok; -1, 2147483648, 1.5, "5", null are 422', async () => {
    const id = product();
    expect(
      (await update([item(id, { quantity: 0 }), item(id, { quantity: 2147483647 })])).status,
    ).toBe(201);
    for (const bad of [-1, 2147483648, 1.5, '5', null, 1e30]) {
      const response = await update([item(id, { quantity: bad })]);
      expect(response.status, String(bad)).toBe(422);
      expect(response.body.errors[0].field).toBe('items.0.quantity');
    }
    expect(await stored(id)).toBe(2);
  });

  it('a naive timestamp is UTC: it is the same instant as its Z and offset forms', async () => {
    const id = product();
    const forms = [
      '2024-03-01T10:00:00',
      '2024-03-01T10:00:00Z',
      '2024-03-01T12:00:00+02:00',
      '2024-03-01T05:00:00-05:00',
    ];
    expect((await update(forms.map((timestamp) => item(id, { timestamp })))).status).toBe(201);
    const page = await query({ productid: id });
    expect(new Set(page.body.items.map((r: { timestamp: string }) => r.timestamp))).toEqual(
      new Set(['2024-03-01T10:00:00.000000Z']),
    );
    const [{ n } = { n: 0 }] = await getSql()`
      SELECT count(DISTINCT "timestamp")::int AS n FROM inventory_records WHERE productid = ${id}`;
    expect(n).toBe(1);
  });

  it('keeps microseconds; refuses malformed timestamps (422)', async () => {
    const id = product();
    expect((await update([item(id, { timestamp: '2024-01-01T10:00:00.123456Z' })])).status).toBe(
      201,
    );
    expect((await query({ productid: id })).body.items[0].timestamp).toBe(
      '2024-01-01T10:00:00.123456Z',
    );
    for (const bad of [
      '2024-13-01T00:00:00Z',
      '2024-02-30T00:00:00Z',
      'yesterday',
      '2024-01-01',
      '0000-01-01T00:00:00Z',
      '2024-01-01T10:00:00.1234567Z',
      1704103200,
    ]) {
      expect((await update([item(id, { timestamp: bad })])).status, String(bad)).toBe(422);
    }
  });

  it('is atomic: one bad item in a batch stores nothing', async () => {
    const id = product();
    const response = await update([item(id), item(id), item(id, { quantity: -5 }), item(id)]);
    expect(response.status).toBe(422);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'items.2.quantity',
    ]);
    expect(await stored(id)).toBe(0);
  });

  it('rejects unknown fields, in the body and in items', async () => {
    const id = product();
    expect(
      (
        await api.post('/api/v1/inventory/update', {
          token: admin.token,
          body: { items: [item(id)], x: 1 },
        })
      ).status,
    ).toBe(422);
    const extra = await update([item(id, { id: 99 })]);
    expect(extra.status).toBe(422);
    expect(extra.body.errors[0].field).toBe('items.0.id');
    expect(await stored(id)).toBe(0);
  });

  it('is for admins: a user gets 403, anonymous 401', async () => {
    const id = product();
    expect((await update([item(id)], user.token)).status).toBe(403);
    expect(
      (await api.post('/api/v1/inventory/update', { body: { items: [item(id)] } })).status,
    ).toBe(401);
    expect(await stored(id)).toBe(0);
  });
});

describe('GET /api/v1/inventory/query', () => {
  it('filters by product and inclusive time bounds, oldest first, with the page shape', async () => {
    const id = product();
    const times = [
      '2024-01-01T00:00:00Z',
      '2024-01-02T00:00:00Z',
      '2024-01-03T00:00:00Z',
      '2024-01-04T00:00:00Z',
    ];
    await update([...times].reverse().map((timestamp, i) => item(id, { timestamp, quantity: i })));
    await update([item(product())]);
    const all = await query({ productid: id });
    expect(all.body).toMatchObject({ count: 4, limit: 50, offset: 0 });
    expect(all.body.items.map((r: { timestamp: string }) => r.timestamp.slice(0, 10))).toEqual(
      times.map((t) => t.slice(0, 10)),
    );
    const bounded = await query({
      productid: id,
      starttimestamp: '2024-01-02T00:00:00',
      endtimestamp: '2024-01-03T00:00:00Z',
    });
    expect(bounded.body.count).toBe(2);
    const page = await query({ productid: id, limit: 3, offset: 3 });
    expect(page.body).toMatchObject({ count: 1, limit: 3, offset: 3 });
    expect((await query({ productid: product() })).body).toEqual({
      count: 0,
      limit: 50,
      offset: 0,
      items: [],
    });
  });

  it('pages are stable when timestamps tie (ordered by id)', async () => {
    const id = product();
    await update(Array.from({ length: 9 }, (_, i) => item(id, { quantity: i })));
    const seen: number[] = [];
    for (let offset = 0; offset < 9; offset += 4) {
      seen.push(
        ...(await query({ productid: id, limit: 4, offset })).body.items.map(
          (r: { id: number }) => r.id,
        ),
      );
    }
    expect(seen).toHaveLength(9);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(9);
  });

  it('validates every parameter at its bounds (422)', async () => {
    const id = product();
    const bounds: Record<string, number>[] = [
      { limit: 1 },
      { limit: 500 },
      { offset: 0 },
      { offset: 100000 },
    ];
    for (const ok of bounds) {
      expect((await query({ productid: id, ...ok })).status, JSON.stringify(ok)).toBe(200);
    }
    const bad: [Record<string, string | number>, string][] = [
      [{}, 'query.productid'],
      [{ productid: id, limit: 0 }, 'query.limit'],
      [{ productid: id, limit: 501 }, 'query.limit'],
      [{ productid: id, offset: -1 }, 'query.offset'],
      [{ productid: id, offset: 100001 }, 'query.offset'],
      [{ productid: 'x'.repeat(65) }, 'query.productid'],
      [{ productid: id, starttimestamp: 'soon' }, 'query.starttimestamp'],
      [
        {
          productid: id,
          starttimestamp: '2024-01-02T00:00:00Z',
          endtimestamp: '2024-01-01T00:00:00Z',
        },
        'query.endtimestamp',
      ],
    ];
    for (const [params, field] of bad) {
      const response = await query(params);
      expect(response.status, JSON.stringify(params)).toBe(422);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('needs a signed-in user', async () => {
    expect((await api.get('/api/v1/inventory/query', { query: { productid: 'A' } })).status).toBe(
      401,
    );
  });

  it('uses the composite index (EXPLAIN), with no other index on the table', async () => {
    const sql = getSql();
    const id = product();
    await sql`
      INSERT INTO inventory_records (productid, quantity, "timestamp")
      SELECT 'bulk-' || (g % 200), g % 100, timestamptz '2024-01-01' + make_interval(mins => g)
      FROM generate_series(1, 20000) g`;
    await update([item(id)]);
    await sql`VACUUM ANALYZE inventory_records`;
    const plan = (
      await sql.unsafe(
        `EXPLAIN SELECT id, productid, quantity, "timestamp" FROM inventory_records
         WHERE productid = 'bulk-7' AND "timestamp" >= '2024-01-02' AND "timestamp" <= '2024-01-05'
         ORDER BY "timestamp", id LIMIT 50 OFFSET 0`,
      )
    )
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    expect(plan).toContain('inventory_records_product_time_idx');
    expect(plan).not.toMatch(/Seq Scan/);
    const indexes =
      await sql`SELECT indexname FROM pg_indexes WHERE tablename = 'inventory_records' ORDER BY 1`;
    expect(indexes.map((i) => i.indexname)).toEqual([
      'inventory_records_pkey',
      'inventory_records_product_time_idx',
    ]);
  });
});
