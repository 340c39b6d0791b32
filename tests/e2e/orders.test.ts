import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { createHandler } from '../../shared/http/handler.js';
import { createOrder } from '../../shared/orders/order-service.js';
import type { OrderDetail } from '../../shared/orders/schemas.js';
import { ordersRoutes } from '../../shared/routes/orders.js';
import { useApi } from '../helpers/api.js';
import { freshIp, invokeHandler } from '../helpers/invoke.js';
import { createProduct, createProfile, placeOrder, uniqueSku } from '../helpers/orders.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();

let admin: TestUser;
beforeAll(async () => {
  admin = await createUser(api, 'admin');
});

/** Orders stored for the customer, straight from the database. */
async function ordersOf(customerId: string): Promise<number> {
  const [row] = await getSql()<{ n: number }[]>`
    SELECT count(*)::int AS n FROM orders WHERE customer_id = ${customerId}`;
  return row?.n ?? 0;
}

/** The audit events a write left in the outbox for `resourceId`, as `action by actor`. */
async function auditEventsOf(resourceId: string): Promise<string[]> {
  const rows = await getSql()<{ type: string; actor: string | null }[]>`
    SELECT type, payload->>'actor_id' AS actor FROM outbox
    WHERE queue = 'audit' AND payload->>'resource_id' = ${resourceId} ORDER BY created_at`;
  return rows.map((row) => `${row.type} by ${row.actor}`);
}

describe('products', () => {
  it('an admin adds a product: 201 with Location and ETag, the price with two decimals', async () => {
    const sku = uniqueSku('MUG');
    const response = await api.post('/api/v1/products', {
      token: admin.token,
      body: { sku, name: '  Coffee mug ', unit_price: '12.5' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/api/v1/products/${response.body.id}`);
    expect(response.headers.get('etag')).toBe('"1"');
    expect(response.body).toMatchObject({
      sku,
      name: 'Coffee mug',
      description: '',
      unit_price: '12.50',
      active: true,
      version: 1,
    });
    expect(await auditEventsOf(response.body.id)).toEqual([`product.created by ${admin.id}`]);
  });

  it.each([
    ['a JSON number', 12.5],
    ['a third decimal', '12.505'],
    ['zero', '0.00'],
    ['a negative price', '-1.00'],
    ['more than 99999999.99', '100000000.00'],
    ['an exponent', '1e3'],
  ])('refuses %s as a price with 422 on unit_price', async (_label, price) => {
    const sku = uniqueSku();
    const response = await api.post('/api/v1/products', {
      token: admin.token,
      body: { sku, name: 'Bad price', unit_price: price },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain('unit_price');
    const [row] = await getSql()<{ n: number }[]>`
      SELECT count(*)::int AS n FROM products WHERE sku = ${sku}`;
    expect(row?.n).toBe(0);
  });

  it('a taken sku is 409', async () => {
    const product = await createProduct(api, admin);
    const again = await api.post('/api/v1/products', {
      token: admin.token,
      body: { sku: product.sku, name: 'Again', unit_price: '1.00' },
    });
    expect(again.status).toBe(409);
  });

  it('an inactive product is 404 to users and listed for admins only with active=false|all', async () => {
    const user = await createUser(api);
    const name = `Hidden ${randomUUID()}`;
    const product = await createProduct(api, admin, { name, active: false });
    expect((await api.get(`/api/v1/products/${product.id}`, { token: user.token })).status).toBe(
      404,
    );
    expect((await api.get(`/api/v1/products/${product.id}`, { token: admin.token })).status).toBe(
      200,
    );
    const query = { q: name, active: 'all' };
    const asUser = await api.get('/api/v1/products', { token: user.token, query });
    expect(asUser.body.items).toEqual([]);
    const asAdmin = await api.get('/api/v1/products', { token: admin.token, query });
    expect(asAdmin.body.items.map((p: { id: string }) => p.id)).toEqual([product.id]);
    const activeOnly = await api.get('/api/v1/products', {
      token: admin.token,
      query: { q: name },
    });
    expect(activeOnly.body.items).toEqual([]);
  });

  it('lists the catalog by name in keyset pages that cover it once; a cursor is bound to q', async () => {
    const user = await createUser(api);
    const tag = randomUUID().slice(0, 8);
    const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo'].map((n) => `${tag} ${n}`);
    for (const name of names) await createProduct(api, admin, { name });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.get('/api/v1/products', {
        token: user.token,
        query: { q: tag, limit: 2, ...(cursor ? { cursor } : {}) },
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((p: { name: string }) => p.name));
      cursor = page.body.next_cursor;
      if (cursor) {
        const other = await api.get('/api/v1/products', {
          token: user.token,
          query: { q: `${tag} a`, cursor },
        });
        expect(other.status).toBe(400);
      }
    } while (cursor);
    expect(seen).toEqual([...names].sort());
  });

  it('PATCH with a stale If-Match is 412; a price change leaves existing orders as they were', async () => {
    const user = await createUser(api);
    await createProfile(api, user);
    const product = await createProduct(api, admin, { unit_price: '3.00' });
    const order = await placeOrder(api, user, product.id, 2);
    const path = `/api/v1/products/${product.id}`;
    const stale = await api.patch(path, {
      token: admin.token,
      headers: { 'If-Match': '"7"' },
      body: { unit_price: '5.00' },
    });
    expect(stale.status).toBe(412);
    const changed = await api.patch(path, {
      token: admin.token,
      headers: { 'If-Match': '"1"' },
      body: { unit_price: '5.00' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ unit_price: '5.00', version: 2 });
    expect(changed.headers.get('etag')).toBe('"2"');
    const read = await api.get(`/api/v1/orders/${order.id}`, { token: user.token });
    expect(read.body.total).toBe('6.00');
    expect(read.body.items[0]).toMatchObject({ unit_price: '3.00', line_total: '6.00' });
    expect(await auditEventsOf(product.id)).toEqual([
      `product.created by ${admin.id}`,
      `product.updated by ${admin.id}`,
    ]);
  });
});

describe('customers', () => {
  it('GET /customers/me is 404 until PUT creates it (201, the account e-mail), then PUT updates (200)', async () => {
    const user = await createUser(api);
    expect((await api.get('/api/v1/customers/me', { token: user.token })).status).toBe(404);
    const created = await api.put('/api/v1/customers/me', {
      token: user.token,
      body: { name: 'Ada' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Ada',
      email: user.email,
      tier: 'free',
      user_id: user.id,
    });
    const updated = await api.put('/api/v1/customers/me', {
      token: user.token,
      body: { name: 'Ada L.' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: created.body.id, name: 'Ada L.', version: 2 });
    const read = await api.get('/api/v1/customers/me', { token: user.token });
    expect(read.body.name).toBe('Ada L.');
    expect(await auditEventsOf(created.body.id)).toEqual([
      `customer.created by ${user.id}`,
      `customer.updated by ${user.id}`,
    ]);
  });

  it('concurrent first PUTs of one user make one profile', async () => {
    const user = await createUser(api);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        api.put('/api/v1/customers/me', { token: user.token, body: { name: 'Racer' } }),
      ),
    );
    expect(answers.map((a) => a.status).filter((s) => s === 201)).toHaveLength(1);
    expect(answers.every((a) => a.status === 200 || a.status === 201)).toBe(true);
    const [row] = await getSql()<{ n: number }[]>`
      SELECT count(*)::int AS n FROM customers WHERE user_id = ${user.id}`;
    expect(row?.n).toBe(1);
  });

  it('an e-mail taken by another customer (any case) or a linked user is 409; an unknown user 422', async () => {
    const user = await createUser(api);
    const profile = await createProfile(api, user);
    const taken = await api.post('/api/v1/customers', {
      token: admin.token,
      body: { name: 'Copy', email: profile.email.toUpperCase() },
    });
    expect(taken.status).toBe(409);
    const linked = await api.post('/api/v1/customers', {
      token: admin.token,
      body: { name: 'Copy', email: `x-${randomUUID()}@example.com`, user_id: user.id },
    });
    expect(linked.status).toBe(409);
    const unknown = await api.post('/api/v1/customers', {
      token: admin.token,
      body: { name: 'Ghost', email: `g-${randomUUID()}@example.com`, user_id: randomUUID() },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0]).toMatchObject({ field: 'user_id', code: 'unknown_user' });
    const other = await createUser(api);
    const putTaken = await api.put('/api/v1/customers/me', {
      token: other.token,
      body: { name: 'Thief', email: profile.email },
    });
    expect(putTaken.status).toBe(409);
  });

  it('a customer is readable by admins and its linked user only; admins list and filter them', async () => {
    const user = await createUser(api);
    const other = await createUser(api);
    const profile = await createProfile(api, user, `Findable ${randomUUID()}`);
    const path = `/api/v1/customers/${profile.id}`;
    expect((await api.get(path, { token: user.token })).status).toBe(200);
    expect((await api.get(path, { token: admin.token })).status).toBe(200);
    expect((await api.get(path, { token: other.token })).status).toBe(404);
    const listed = await api.get('/api/v1/customers', {
      token: admin.token,
      query: { q: 'Findable', tier: 'free', active: 'true', limit: 100 },
    });
    expect(listed.body.items.map((c: { id: string }) => c.id)).toContain(profile.id);
    const pro = await api.get('/api/v1/customers', {
      token: admin.token,
      query: { q: 'Findable', tier: 'pro' },
    });
    expect(pro.body.items.map((c: { id: string }) => c.id)).not.toContain(profile.id);
  });

  it('an inactive customer cannot order (409) and nothing is stored', async () => {
    const user = await createUser(api);
    const profile = await createProfile(api, user);
    const product = await createProduct(api, admin);
    const patched = await api.patch(`/api/v1/customers/${profile.id}`, {
      token: admin.token,
      headers: { 'If-Match': `"${profile.version}"` },
      body: { active: false },
    });
    expect(patched.status).toBe(200);
    const order = await api.post('/api/v1/orders', {
      token: user.token,
      body: { items: [{ product_id: product.id, quantity: 1 }] },
    });
    expect(order.status).toBe(409);
    expect(await ordersOf(profile.id)).toBe(0);
  });
});

describe('placing an order', () => {
  let user: TestUser;
  let customerId: string;
  let cheap: { id: string };
  let dear: { id: string };

  beforeAll(async () => {
    user = await createUser(api);
    customerId = (await createProfile(api, user)).id;
    cheap = await createProduct(api, admin, { unit_price: '0.10', name: 'Cheap' });
    dear = await createProduct(api, admin, { unit_price: '19.99', name: 'Dear' });
  });

  it('copies unit prices and computes exact decimal totals; the history starts at pending', async () => {
    const response = await api.post('/api/v1/orders', {
      token: user.token,
      body: {
        items: [
          { product_id: cheap.id, quantity: 3 },
          { product_id: dear.id, quantity: 2 },
        ],
        notes: 'Ring twice',
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/api/v1/orders/${response.body.id}`);
    expect(response.headers.get('etag')).toBe('"1"');
    // 3 × 0.10 + 2 × 19.99 = 40.28 exactly (in floats: 40.279999999999994).
    expect(response.body).toMatchObject({
      customer_id: customerId,
      status: 'pending',
      currency: 'EUR',
      total: '40.28',
      notes: 'Ring twice',
      version: 1,
    });
    expect(response.body.items).toEqual([
      expect.objectContaining({
        product_id: cheap.id,
        quantity: 3,
        unit_price: '0.10',
        line_total: '0.30',
      }),
      expect.objectContaining({
        product_id: dear.id,
        quantity: 2,
        unit_price: '19.99',
        line_total: '39.98',
      }),
    ]);
    expect(response.body.status_history).toEqual([
      { from: null, to: 'pending', at: response.body.created_at, actor_id: user.id, reason: null },
    ]);
    expect(await auditEventsOf(response.body.id)).toEqual([`order.created by ${user.id}`]);
  });

  it.each([
    ['21 units in total', [{ q: 11 }, { q: 10, dear: true }], 'items', 'order_item_limit'],
    ['a product twice', [{ q: 1 }, { q: 1 }], 'items.1.product_id', 'duplicate_product'],
    ['an unknown product', [{ q: 1, unknown: true }], 'items.0.product_id', 'unknown_product'],
    ['a quantity of 0', [{ q: 0 }], 'items.0.quantity', 'too_small'],
    ['a quantity of 21', [{ q: 21 }], 'items.0.quantity', 'too_big'],
  ])('refuses %s with 422 and stores nothing', async (_label, lines, field, code) => {
    const before = await ordersOf(customerId);
    const items = lines.map((line: { q: number; dear?: boolean; unknown?: boolean }) => ({
      product_id: line.unknown ? randomUUID() : line.dear ? dear.id : cheap.id,
      quantity: line.q,
    }));
    const response = await api.post('/api/v1/orders', { token: user.token, body: { items } });
    expect(response.status).toBe(422);
    expect(response.body.errors).toContainEqual(expect.objectContaining({ field, code }));
    expect(await ordersOf(customerId)).toBe(before);
  });

  it('refuses an inactive product on its line, no lines, and more than 20 lines', async () => {
    const inactive = await createProduct(api, admin, { active: false });
    const refused = await api.post('/api/v1/orders', {
      token: user.token,
      body: {
        items: [
          { product_id: cheap.id, quantity: 1 },
          { product_id: inactive.id, quantity: 1 },
        ],
      },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ field: 'items.1.product_id', code: 'inactive_product' }),
    ]);
    const empty = await api.post('/api/v1/orders', { token: user.token, body: { items: [] } });
    expect(empty.status).toBe(422);
    const many = Array.from({ length: 21 }, () => ({ product_id: randomUUID(), quantity: 1 }));
    const tooMany = await api.post('/api/v1/orders', { token: user.token, body: { items: many } });
    expect(tooMany.status).toBe(422);
  });

  it('a user without a profile gets 409, with another customer 404; an admin must name one (422)', async () => {
    const newcomer = await createUser(api);
    const items = [{ product_id: cheap.id, quantity: 1 }];
    const noProfile = await api.post('/api/v1/orders', { token: newcomer.token, body: { items } });
    expect(noProfile.status).toBe(409);
    await createProfile(api, newcomer);
    const others = await api.post('/api/v1/orders', {
      token: newcomer.token,
      body: { customer_id: customerId, items },
    });
    expect(others.status).toBe(404);
    const adminWithout = await api.post('/api/v1/orders', { token: admin.token, body: { items } });
    expect(adminWithout.status).toBe(422);
    expect(adminWithout.body.errors[0]).toMatchObject({ field: 'customer_id' });
    const adminFor = await api.post('/api/v1/orders', {
      token: admin.token,
      body: { customer_id: customerId, items },
    });
    expect(adminFor.status).toBe(201);
    expect(adminFor.body.customer_id).toBe(customerId);
  });
});

describe('order status machine', () => {
  let owner: TestUser;
  let product: { id: string };

  beforeAll(async () => {
    owner = await createUser(api);
    await createProfile(api, owner);
    product = await createProduct(api, admin);
  });

  const move = (user: TestUser, id: string, status: string, headers: Record<string, string> = {}) =>
    api.post(`/api/v1/orders/${id}/transitions`, { token: user.token, headers, body: { status } });

  it('admins walk an order to delivered; each move is in the history with its actor', async () => {
    const order = await placeOrder(api, owner, product.id);
    for (const status of ['processing', 'shipped', 'delivered']) {
      const moved = await move(admin, order.id, status);
      expect(moved.status, moved.text).toBe(200);
      expect(moved.body.status).toBe(status);
    }
    const read = await api.get(`/api/v1/orders/${order.id}`, { token: owner.token });
    expect(read.body.version).toBe(4);
    expect(
      read.body.status_history.map((h: { from: string | null; to: string }) => [h.from, h.to]),
    ).toEqual([
      [null, 'pending'],
      ['pending', 'processing'],
      ['processing', 'shipped'],
      ['shipped', 'delivered'],
    ]);
    expect(
      read.body.status_history.slice(1).every((h: { actor_id: string }) => h.actor_id === admin.id),
    ).toBe(true);
    const final = await move(admin, order.id, 'cancelled');
    expect(final.status).toBe(409);
    expect(final.body.allowed).toEqual([]);
  });

  it('a move the machine does not allow is 409 listing the allowed ones', async () => {
    const order = await placeOrder(api, owner, product.id);
    const skipped = await move(admin, order.id, 'shipped');
    expect(skipped.status).toBe(409);
    expect(skipped.headers.get('content-type')).toBe('application/problem+json');
    expect(skipped.body.allowed).toEqual(['processing', 'cancelled']);
  });

  it('the owner may cancel a pending order and nothing else (403)', async () => {
    const order = await placeOrder(api, owner, product.id);
    expect((await move(owner, order.id, 'processing')).status).toBe(403);
    const cancelled = await move(owner, order.id, 'cancelled');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const processing = await placeOrder(api, owner, product.id);
    expect((await move(admin, processing.id, 'processing')).status).toBe(200);
    expect((await move(owner, processing.id, 'cancelled')).status).toBe(403);
  });

  it('a stale If-Match is 412 and changes nothing', async () => {
    const order = await placeOrder(api, owner, product.id);
    const stale = await move(admin, order.id, 'processing', { 'If-Match': '"2"' });
    expect(stale.status).toBe(412);
    const fresh = await move(admin, order.id, 'processing', { 'If-Match': '"1"' });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('etag')).toBe('"2"');
  });

  it('of 10 concurrent moves from one state exactly one wins, the others get 409', async () => {
    const order = await placeOrder(api, owner, product.id);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => move(admin, order.id, 'processing')),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    const [row] = await getSql()<{ moves: number }[]>`
      SELECT count(*)::int AS moves FROM order_status_history
      WHERE order_id = ${order.id} AND from_status IS NOT NULL`;
    expect(row?.moves).toBe(1);
  });

  it('a random id or another user’s order is 404', async () => {
    const stranger = await createUser(api);
    const order = await placeOrder(api, owner, product.id);
    expect((await move(stranger, order.id, 'cancelled')).status).toBe(404);
    expect((await move(admin, randomUUID(), 'cancelled')).status).toBe(404);
  });
});

describe('reading, caching and deleting an order', () => {
  let owner: TestUser;
  let product: { id: string };

  beforeAll(async () => {
    owner = await createUser(api);
    await createProfile(api, owner);
    product = await createProduct(api, admin);
  });

  it('a read is a miss, then a hit; a move is seen at once (never a stale copy)', async () => {
    const order = await placeOrder(api, owner, product.id);
    const path = `/api/v1/orders/${order.id}`;
    const first = await api.get(path, { token: owner.token });
    expect(first.headers.get('x-cache')).toBe('miss');
    const second = await api.get(path, { token: owner.token });
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.body).toEqual(first.body);
    await api.post(`${path}/transitions`, { token: admin.token, body: { status: 'processing' } });
    const after = await api.get(path, { token: owner.token });
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(after.body.status).toBe('processing');
    expect(after.headers.get('etag')).toBe('"2"');
  });

  it('other users get 404 also from a cached copy; admins read any order', async () => {
    const stranger = await createUser(api);
    const order = await placeOrder(api, owner, product.id);
    const path = `/api/v1/orders/${order.id}`;
    await api.get(path, { token: owner.token });
    const cached = await api.get(path, { token: stranger.token });
    expect(cached.status).toBe(404);
    expect((await api.get(path, { token: admin.token })).status).toBe(200);
  });

  it('only pending or cancelled orders are deleted; deleted ones are 404 and unlisted; delete is idempotent', async () => {
    const order = await placeOrder(api, owner, product.id);
    const path = `/api/v1/orders/${order.id}`;
    await api.get(path, { token: owner.token }); // cached before the delete
    const processing = await placeOrder(api, owner, product.id);
    await api.post(`/api/v1/orders/${processing.id}/transitions`, {
      token: admin.token,
      body: { status: 'processing' },
    });
    expect(
      (await api.delete(`/api/v1/orders/${processing.id}`, { token: admin.token })).status,
    ).toBe(409);
    expect((await api.delete(path, { token: admin.token })).status).toBe(204);
    expect((await api.delete(path, { token: admin.token })).status).toBe(204);
    expect((await api.get(path, { token: owner.token })).status).toBe(404);
    expect((await api.get(path, { token: admin.token })).status).toBe(404);
    const listed = await api.get('/api/v1/orders', { token: owner.token, query: { limit: 100 } });
    expect(listed.body.items.map((o: { id: string }) => o.id)).not.toContain(order.id);
    expect(await auditEventsOf(order.id)).toEqual([
      `order.created by ${owner.id}`,
      `order.deleted by ${admin.id}`,
    ]);
  });
});

describe('listing orders', () => {
  let owner: TestUser;
  let customerId: string;
  let ids: string[];

  beforeAll(async () => {
    owner = await createUser(api);
    customerId = (await createProfile(api, owner)).id;
    const product = await createProduct(api, admin, { unit_price: '1.50' });
    ids = [];
    for (const quantity of [3, 1, 4, 1, 5])
      ids.push((await placeOrder(api, owner, product.id, quantity)).id);
    await api.post(`/api/v1/orders/${ids[0]}/transitions`, {
      token: admin.token,
      body: { status: 'processing' },
    });
  });

  const list = async (user: TestUser, query: Record<string, string | number>) => {
    const response = await api.get('/api/v1/orders', { token: user.token, query });
    expect(response.status, response.text).toBe(200);
    return response.body as {
      items: { id: string; total: string; status: string; items: unknown[] }[];
      next_cursor: string | null;
    };
  };

  /** Every page of a listing, following next_cursor. */
  async function allPages(user: TestUser, query: Record<string, string | number>) {
    const seen: { id: string; total: string; status: string }[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(user, { ...query, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return seen;
  }

  it('a user sees their own orders, newest first, with their lines, in pages that cover them once', async () => {
    const seen = await allPages(owner, { limit: 2 });
    expect(seen.map((o) => o.id)).toEqual([...ids].reverse());
    const page = await list(owner, { limit: 1 });
    expect(page.items[0]?.items).toHaveLength(1);
    const stranger = await createUser(api);
    await createProfile(api, stranger);
    expect((await list(stranger, {})).items).toEqual([]);
    const noProfile = await createUser(api);
    expect((await list(noProfile, {})).items).toEqual([]);
  });

  it('sorts by total in both directions, ties broken by id, and filters by status', async () => {
    const ascending = await allPages(owner, { sort: 'total', order: 'asc', limit: 2 });
    expect(ascending.map((o) => o.total)).toEqual(['1.50', '1.50', '4.50', '6.00', '7.50']);
    const descending = await allPages(owner, { sort: 'total', order: 'desc', limit: 3 });
    expect(descending.map((o) => o.id)).toEqual(ascending.map((o) => o.id).reverse());
    const processing = await list(owner, { status: 'processing' });
    expect(processing.items.map((o) => o.id)).toEqual([ids[0]]);
    const both = await list(owner, { status: 'pending,processing', limit: 100 });
    expect(both.items).toHaveLength(5);
    const unknown = await api.get('/api/v1/orders', {
      token: owner.token,
      query: { status: 'lost' },
    });
    expect(unknown.status).toBe(422);
  });

  it('filters by creation time (inclusive bounds); admins filter by customer', async () => {
    const [first] = await getSql()<{ at: string }[]>`
      SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
      FROM orders WHERE id = ${ids[2] as string}`;
    const from = await list(owner, { created_from: first?.at as string, limit: 100 });
    expect(from.items.map((o) => o.id)).toEqual(ids.slice(2).reverse());
    const to = await list(owner, { created_to: first?.at as string, limit: 100 });
    expect(to.items.map((o) => o.id)).toEqual(ids.slice(0, 3).reverse());
    const mine = await list(admin, { customer_id: customerId, limit: 100 });
    expect(mine.items.map((o) => o.id)).toEqual([...ids].reverse());
    const backwards = await api.get('/api/v1/orders', {
      token: owner.token,
      query: { created_from: '2030-01-01T00:00:00Z', created_to: '2020-01-01T00:00:00Z' },
    });
    expect(backwards.status).toBe(422);
  });

  it('a cursor is bound to its filters; a malformed one is 400', async () => {
    const page = await list(owner, { limit: 2 });
    const cursor = page.next_cursor as string;
    const other = await api.get('/api/v1/orders', {
      token: owner.token,
      query: { limit: 2, cursor, sort: 'total' },
    });
    expect(other.status).toBe(400);
    const tampered = await api.get('/api/v1/orders', {
      token: owner.token,
      query: { cursor: `${cursor.slice(0, -2)}xx` },
    });
    expect(tampered.status).toBe(400);
  });
});

describe('idempotent order creation', () => {
  let user: TestUser;
  let customerId: string;
  let product: { id: string };

  beforeAll(async () => {
    user = await createUser(api);
    customerId = (await createProfile(api, user)).id;
    product = await createProduct(api, admin, { unit_price: '2.00' });
  });

  const order = (key: string, quantity = 1) =>
    api.post('/api/v1/orders', {
      token: user.token,
      headers: { 'Idempotency-Key': key },
      body: { items: [{ product_id: product.id, quantity }] },
    });

  it('a retry with the key replays the 201 (same body, Idempotent-Replayed) and places no second order', async () => {
    const key = randomUUID();
    const before = await ordersOf(customerId);
    const first = await order(key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await order(key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(await ordersOf(customerId)).toBe(before + 1);
    const other = await order(key, 2);
    expect(other.status).toBe(422);
    expect(await ordersOf(customerId)).toBe(before + 1);
  });

  it('10 parallel requests with one key place exactly one order', async () => {
    const key = randomUUID();
    const before = await ordersOf(customerId);
    const answers = await Promise.all(Array.from({ length: 10 }, () => order(key)));
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
    const created = answers.filter((a) => a.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
    expect(await ordersOf(customerId)).toBe(before + 1);
    // Once the first has finished, a retry replays it.
    const retry = await order(key);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(created[0]?.body.id);
  });

  it('after a crash between the commit and the response (500), the retry with the key replays the order', async () => {
    const crashing = createHandler(
      ordersRoutes.createOrder,
      async ({ principal, body, idempotency }) => {
        const render = (created: OrderDetail) => ({ status: 201 as const, body: created });
        await createOrder(principal, body, idempotency?.hooks(render));
        throw new Error('the function died after its commit');
      },
    );
    const key = randomUUID();
    const before = await ordersOf(customerId);
    const request = {
      sourceIp: freshIp(),
      token: user.token,
      headers: { 'idempotency-key': key },
      body: { items: [{ product_id: product.id, quantity: 3 }] },
    };
    const crashed = await invokeHandler(crashing, ordersRoutes.createOrder, request);
    expect(crashed.status).toBe(500);
    expect(await ordersOf(customerId)).toBe(before + 1);
    const retry = await order(key, 3);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.total).toBe('6.00');
    expect(await ordersOf(customerId)).toBe(before + 1);
  });

  it('a business-rule refusal (inactive customer, 409) is replayed for its key; a new key sees the fix', async () => {
    const buyer = await createUser(api);
    const profile = await createProfile(api, buyer);
    await api.patch(`/api/v1/customers/${profile.id}`, {
      token: admin.token,
      body: { active: false },
    });
    const key = randomUUID();
    const body = { items: [{ product_id: product.id, quantity: 1 }] };
    const send = (k: string) =>
      api.post('/api/v1/orders', { token: buyer.token, headers: { 'Idempotency-Key': k }, body });
    expect((await send(key)).status).toBe(409);
    await api.patch(`/api/v1/customers/${profile.id}`, {
      token: admin.token,
      body: { active: true },
    });
    const replayed = await send(key);
    expect(replayed.status).toBe(409);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect((await send(randomUUID())).status).toBe(201);
  });
});
