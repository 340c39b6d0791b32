/**
 * Idempotency keys (API.md § Idempotency keys) end to end: POST /api/v1/inventory/update
 * through the local gateway and its real handler, on the real database; a few test-only
 * handlers built with `createHandler` (same stack) for what inventory cannot show: a
 * business-rule 409/422 and a crash after the commit.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { getSql, type Queryable, type TransactionSql } from '../../shared/db/client.js';
import { idempotencyLockId } from '../../shared/db/idempotency-keys.js';
import { withTransactionHooks } from '../../shared/db/transaction-hooks.js';
import { Conflict, ValidationFailed } from '../../shared/errors.js';
import { createHandler, type HttpHandler } from '../../shared/http/handler.js';
import { defineRoute } from '../../shared/http/route.js';
import { insertRecords } from '../../shared/inventory/repository.js';
import { updateInventory } from '../../shared/inventory/service.js';
import { inventoryRoutes } from '../../shared/routes/inventory.js';
import { type ApiResponse, useApi } from '../helpers/api.js';
import { invokeHandler } from '../helpers/invoke.js';
import { freshIp } from '../helpers/ip.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();
const sql = getSql();
const PATH = '/api/v1/inventory/update';
const ROUTE = `POST ${PATH}`;

let admin: TestUser;
let otherAdmin: TestUser;
beforeAll(async () => {
  [admin, otherAdmin] = await Promise.all([createUser(api, 'admin'), createUser(api, 'admin')]);
});

/** A product id nobody else in the suite uses. */
const product = () => `I-${randomUUID().slice(0, 8)}`;
const batch = (productid: string, quantities = [5, 7]) => ({
  items: quantities.map((quantity, i) => ({
    productid,
    quantity,
    timestamp: `2024-01-01T1${i}:00:00Z`,
  })),
});
const newKey = () => `key-${randomUUID()}`;

const update = (body: unknown, key?: string, token = admin.token) =>
  api.post(PATH, { token, body, headers: key === undefined ? {} : { 'idempotency-key': key } });

const stored = async (productid: string) =>
  (
    await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM inventory_records WHERE productid = ${productid}`
  )[0]?.n;

const records = async (scope: string, key: string, route = ROUTE) =>
  (
    await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM idempotency_keys
      WHERE scope = ${scope} AND route = ${route} AND key = ${key}`
  )[0]?.n;

const replayed = (response: { headers: Headers }) =>
  response.headers.get('idempotent-replayed') === 'true';

/** Invokes a test-only handler (built here with `createHandler`) for `POST path` with `key`. */
function invoke(
  handler: HttpHandler,
  path: string,
  options: { body: unknown; key?: string; token?: string },
): Promise<ApiResponse> {
  return invokeHandler(
    handler,
    { method: 'POST', path, function: 'inventory/update' },
    {
      sourceIp: freshIp(),
      token: options.token ?? admin.token,
      body: options.body,
      ...(options.key === undefined ? {} : { headers: { 'idempotency-key': options.key } }),
    },
  );
}

describe('Idempotency-Key on POST /api/v1/inventory/update', () => {
  it('replays the first answer for the same key and body, without a second write', async () => {
    const id = product();
    const key = newKey();
    const first = await update(batch(id), key);
    expect(first.status).toBe(201);
    expect(replayed(first)).toBe(false);
    expect(await stored(id)).toBe(2);

    const again = await update(batch(id), key);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(replayed(again)).toBe(true);
    expect(await stored(id)).toBe(2);
    // The stack's own headers come fresh: another request id, the security headers.
    expect(again.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(again.headers.get('x-content-type-options')).toBe('nosniff');
    expect(again.headers.get('cache-control')).toBe('no-store');
    expect(await records(admin.id, key)).toBe(1);
  });

  it('takes the same body in another key order and whitespace as the same request', async () => {
    const id = product();
    const key = newKey();
    expect((await update(batch(id), key)).status).toBe(201);
    const reordered = JSON.stringify(
      {
        items: batch(id).items.map(({ timestamp, quantity, productid }) => ({
          timestamp,
          quantity,
          productid,
        })),
      },
      null,
      2,
    );
    const again = await api.post(PATH, {
      token: admin.token,
      rawBody: `  ${reordered}\n`,
      headers: { 'idempotency-key': key },
    });
    expect(again.status).toBe(201);
    expect(replayed(again)).toBe(true);
    expect(await stored(id)).toBe(2);
  });

  it('answers the same key with a different body 422 (idempotency_key_reused), writing nothing', async () => {
    const id = product();
    const key = newKey();
    expect((await update(batch(id), key)).status).toBe(201);
    const other = await update(batch(id, [5, 8]), key);
    expect(other.status).toBe(422);
    expect(replayed(other)).toBe(false);
    expect(other.body.errors).toEqual([
      expect.objectContaining({ field: 'header.idempotency-key', code: 'idempotency_key_reused' }),
    ]);
    expect(await stored(id)).toBe(2);
    // The first request's record is untouched: it still replays.
    expect(replayed(await update(batch(id), key))).toBe(true);
  });

  it('writes twice without a key', async () => {
    const id = product();
    expect((await update(batch(id))).status).toBe(201);
    const second = await update(batch(id));
    expect(second.status).toBe(201);
    expect(replayed(second)).toBe(false);
    expect(await stored(id)).toBe(4);
  });

  it('refuses an empty, oversized or non-ASCII key with 400 and stores nothing', async () => {
    const id = product();
    for (const key of ['', 'k'.repeat(256), 'clé-ü']) {
      const response = await update(batch(id), key);
      expect(response.status, JSON.stringify(key)).toBe(400);
      expect(response.body.detail).toContain('Idempotency-Key');
    }
    expect(await stored(id)).toBe(0);
    const [{ n } = { n: -1 }] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM idempotency_keys WHERE scope = ${admin.id}
        AND (key = '' OR char_length(key) > 255 OR key LIKE 'cl%')`;
    expect(n).toBe(0);
    // 255 characters is the longest valid key.
    expect((await update(batch(id), 'k'.repeat(255))).status).toBe(201);
  });

  it('leaves no record for a request refused by validation: the key then works', async () => {
    const id = product();
    const key = newKey();
    const refused = await update(batch(id, [-1]), key);
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].field).toBe('items.0.quantity');
    expect(await records(admin.id, key)).toBe(0);
    const accepted = await update(batch(id), key);
    expect(accepted.status).toBe(201);
    expect(replayed(accepted)).toBe(false);
    expect(await stored(id)).toBe(2);
  });

  it('leaves no record for a request refused by authorization', async () => {
    const user = await createUser(api);
    const key = newKey();
    expect((await update(batch(product()), key, user.token)).status).toBe(403);
    expect((await update(batch(product()), key, 'not-a-token')).status).toBe(401);
    const [{ n } = { n: -1 }] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM idempotency_keys WHERE key = ${key}`;
    expect(n).toBe(0);
  });

  it('under 10 parallel requests with one key writes exactly one batch; each answer is 201 or 409', async () => {
    const id = product();
    const key = newKey();
    const body = batch(id, [1, 2, 3]);
    const answers = await Promise.all(Array.from({ length: 10 }, () => update(body, key)));
    const statuses = answers.map((a) => a.status);
    for (const status of statuses) expect([201, 409]).toContain(status);
    const fresh = answers.filter((a) => a.status === 201 && !replayed(a));
    expect(fresh).toHaveLength(1);
    for (const conflict of answers.filter((a) => a.status === 409)) {
      expect(conflict.body.detail).toContain('in progress');
      expect(replayed(conflict)).toBe(false);
    }
    expect(await stored(id)).toBe(3);
    expect(await records(admin.id, key)).toBe(1);
    // Once it has finished, the key replays.
    const after = await update(body, key);
    expect(after.status).toBe(201);
    expect(replayed(after)).toBe(true);
    expect(await stored(id)).toBe(3);
  });

  it('answers 409 while a transaction holds the key, and stores nothing for it', async () => {
    const id = product();
    const key = newKey();
    const lock = idempotencyLockId({ scope: admin.id, route: ROUTE, key });
    const busy = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${lock}::bigint)`;
      return update(batch(id), key);
    });
    expect(busy.status).toBe(409);
    expect(await stored(id)).toBe(0);
    expect(await records(admin.id, key)).toBe(0);
    const later = await update(batch(id), key);
    expect(later.status).toBe(201);
    expect(replayed(later)).toBe(false);
    expect(await stored(id)).toBe(2);
  });

  it('scopes keys to the caller: another user with the same key and body writes', async () => {
    const id = product();
    const key = newKey();
    expect((await update(batch(id), key)).status).toBe(201);
    const other = await update(batch(id), key, otherAdmin.token);
    expect(other.status).toBe(201);
    expect(replayed(other)).toBe(false);
    expect(await stored(id)).toBe(4);
    expect(replayed(await update(batch(id), key, otherAdmin.token))).toBe(true);
    expect(await stored(id)).toBe(4);
  });
});

describe('Idempotency-Key with test-only handlers (same stack, same database)', () => {
  it('replays a 409 or 422 of a business rule raised after the key was armed', async () => {
    let refuse: 'conflict' | 'validation' | null = 'conflict';
    const route = defineRoute({
      ...inventoryRoutes.inventoryUpdate,
      path: '/test/idempotency/rule',
      function: 'test/idempotency-rule',
      errors: [409, 422],
    });
    const handler = createHandler(route, async ({ body, idempotency }) => {
      const render = () => ({ status: 201 as const });
      await withTransactionHooks(async (tx) => {
        const count = await insertRecords(body.items, tx);
        // The rule runs after the write, in its transaction: the write rolls back with it.
        if (refuse === 'conflict') throw new Conflict('The stock of this product is frozen.');
        if (refuse === 'validation') {
          throw new ValidationFailed([
            { field: 'items.0.productid', message: 'Unknown product.', code: 'unknown_product' },
          ]);
        }
        return count;
      }, idempotency?.hooks(render));
      return render();
    });
    for (const kind of ['conflict', 'validation'] as const) {
      refuse = kind;
      const status = kind === 'conflict' ? 409 : 422;
      const id = product();
      const key = newKey();
      const first = await invoke(handler, route.path, { body: batch(id), key });
      expect(first.status, kind).toBe(status);
      expect(replayed(first)).toBe(false);
      expect(await records(admin.id, key, `POST ${route.path}`)).toBe(1);
      // The rule would now pass, but the key's answer is the recorded one.
      refuse = null;
      const again = await invoke(handler, route.path, { body: batch(id), key });
      expect(again.status, kind).toBe(status);
      expect(replayed(again)).toBe(true);
      expect(again.headers.get('content-type')).toBe('application/problem+json');
      expect({ ...again.body, request_id: 'x' }).toEqual({ ...first.body, request_id: 'x' });
      expect(again.body.request_id).toBe(again.headers.get('x-request-id'));
      expect(await stored(id)).toBe(0);
      // A new key runs the (now passing) rule.
      const fresh = await invoke(handler, route.path, { body: batch(id), key: newKey() });
      expect(fresh.status).toBe(201);
      expect(await stored(id)).toBe(2);
    }
  });

  it('records a business 409 in the write’s own transaction, after rolling the write back to its savepoint', async () => {
    const route = defineRoute({
      ...inventoryRoutes.inventoryUpdate,
      path: '/test/idempotency/atomic',
      function: 'test/idempotency-atomic',
      errors: [409],
    });
    /** Each write's transaction id, and what `failed` saw in its transaction after recording. */
    const writeTransactions: string[] = [];
    const recordings: { transaction: string; inside: number; outside: number }[] = [];
    const currentTransaction = async (tx: TransactionSql) =>
      (await tx<{ id: string }[]>`SELECT txid_current()::text AS id`)[0]?.id as string;
    const count = async (q: Queryable, key: string) =>
      (
        await q<{ n: number }[]>`
          SELECT count(*)::int AS n FROM idempotency_keys
          WHERE scope = ${admin.id} AND route = ${`POST ${route.path}`} AND key = ${key}`
      )[0]?.n as number;
    const handler = createHandler(route, async ({ body, idempotency }) => {
      const render = () => ({ status: 201 as const });
      const hooks = idempotency?.hooks(render);
      const key = idempotency?.key as string;
      await withTransactionHooks(
        async (tx) => {
          writeTransactions.push(await currentTransaction(tx));
          await insertRecords(body.items, tx);
          throw new Conflict('The stock of this product is frozen.');
        },
        hooks && {
          ...hooks,
          failed: async (tx, error) => {
            const keep = await hooks.failed(tx, error);
            recordings.push({
              transaction: await currentTransaction(tx),
              inside: await count(tx, key),
              // Another connection: the record is not committed yet, so not visible there.
              outside: await count(sql, key),
            });
            return keep;
          },
        },
      );
      return render();
    });
    const id = product();
    const key = newKey();
    const first = await invoke(handler, route.path, { body: batch(id), key });
    expect(first.status).toBe(409);
    expect(replayed(first)).toBe(false);
    // The record was written by the write's own transaction (after its rollback to the
    // savepoint), uncommitted until that transaction's COMMIT; nothing of the write is stored.
    expect(writeTransactions).toHaveLength(1);
    expect(recordings).toEqual([{ transaction: writeTransactions[0], inside: 1, outside: 0 }]);
    expect(await stored(id)).toBe(0);
    expect(await count(sql, key)).toBe(1);

    const again = await invoke(handler, route.path, { body: batch(id), key });
    expect(again.status).toBe(409);
    expect(replayed(again)).toBe(true);
    expect({ ...again.body, request_id: 'x' }).toEqual({ ...first.body, request_id: 'x' });
    expect(writeTransactions).toHaveLength(1);
    expect(await stored(id)).toBe(0);
    expect(await records(admin.id, key, `POST ${route.path}`)).toBe(1);
  });

  it('a write that fails with another error (500) rolls the whole transaction back and records nothing', async () => {
    const route = defineRoute({
      ...inventoryRoutes.inventoryUpdate,
      path: '/test/idempotency/crash-in-write',
      function: 'test/idempotency-crash-in-write',
    });
    const handler = createHandler(route, async ({ body, idempotency }) => {
      const render = () => ({ status: 201 as const });
      await withTransactionHooks(async (tx) => {
        await insertRecords(body.items, tx);
        throw new Error('the write crashed');
      }, idempotency?.hooks(render));
      return render();
    });
    const id = product();
    const key = newKey();
    const crashed = await invoke(handler, route.path, { body: batch(id), key });
    expect(crashed.status).toBe(500);
    expect(await stored(id)).toBe(0);
    expect(await records(admin.id, key, `POST ${route.path}`)).toBe(0);
  });

  it('after a crash that follows the commit (500), the retry replays the 201 without a second write', async () => {
    const crashing = createHandler(
      inventoryRoutes.inventoryUpdate,
      async ({ body, idempotency }) => {
        const render = () => ({ status: 201 as const });
        await updateInventory(body, idempotency?.hooks(render));
        throw new Error('the function crashed after its commit');
      },
    );
    const id = product();
    const key = newKey();
    const crashed = await invoke(crashing, PATH, { body: batch(id), key });
    expect(crashed.status).toBe(500);
    expect(await stored(id)).toBe(2);
    const retry = await update(batch(id), key);
    expect(retry.status).toBe(201);
    expect(replayed(retry)).toBe(true);
    expect(await stored(id)).toBe(2);
  });

  it('answers from a record committed after its lookup (checked again under the lock), rolling its write back', async () => {
    const twice = createHandler(inventoryRoutes.inventoryUpdate, async ({ body, idempotency }) => {
      const render = () => ({ status: 201 as const });
      // The first call commits the key's record: the second finds it inside its transaction,
      // as a request that lost the race to a concurrent one would.
      await updateInventory(body, idempotency?.hooks(render));
      await updateInventory(body, idempotency?.hooks(render));
      return render();
    });
    const id = product();
    const key = newKey();
    const response = await invoke(twice, PATH, { body: batch(id), key });
    expect(response.status).toBe(201);
    expect(replayed(response)).toBe(true);
    expect(await stored(id)).toBe(2);
  });

  it('refuses to build an idempotent route that is public, has no database or is a GET', () => {
    const base = inventoryRoutes.inventoryUpdate;
    for (const route of [
      defineRoute({ ...base, auth: 'public', function: 'test/public' }),
      defineRoute({ ...base, database: false, function: 'test/no-database' }),
      defineRoute({ ...base, method: 'GET', function: 'test/get' }),
    ]) {
      expect(() => createHandler(route, async () => ({ status: 201 as const }))).toThrow(
        /idempotency keys need/,
      );
    }
  });
});
