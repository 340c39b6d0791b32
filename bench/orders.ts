import type { Principal } from '../shared/auth/tokens.js';
import { bumpCacheVersion } from '../shared/cache/cache-aside.js';
import { getSql } from '../shared/db/client.js';
import { findCustomerOfUser } from '../shared/orders/customer-repository.js';
import { insertOrder } from '../shared/orders/order-repository.js';
import { listOrders } from '../shared/orders/order-service.js';
import { lockProducts } from '../shared/orders/product-repository.js';
import { ListOrdersQuery } from '../shared/orders/schemas.js';
import { addToOutbox } from '../shared/queue/outbox.js';
import { createCallers } from './callers.js';
import { makeInvoker, roundRobin } from './invoke.js';
import { ms, summarize, time, timePair, type Verdict } from './stats.js';

/** Users the order requests take turns with (each with a customer profile and its own IP). */
const CUSTOMERS = 64;
/** The outbox event type of the bare transaction's rows (never published). */
const BARE_EVENT = 'bench.bare-order';
/** Orders of the one customer whose list is read at depth. */
const DEPTH = 10_000;

/**
 * Order budgets (issue 13; API.md § Orders): creating an order through its handler vs the
 * bare SQL of the same transaction, the order list at depth 10,000 vs its first page, and a
 * cache hit vs a miss on `GET /api/v1/orders/{id}`. Expects the functions' environment (see
 * run.ts); events stay in the outbox unless the queues are set up.
 */
export async function benchOrders(iterations: number): Promise<Verdict[]> {
  const sql = getSql();
  const verdicts: Verdict[] = [];
  const line = (label: string, samples: number[]) => {
    const s = summarize(samples);
    console.log(`  ${label.padEnd(44)} median ${ms(s.median)}  p99 ${ms(s.p99)}  (n=${s.n})`);
    return s;
  };
  const report = (name: string, ratio: number, budget: string, pass: boolean) => {
    verdicts.push({ name, ratio, budget, pass });
    console.log(`→ ${name}: ${ratio.toFixed(2)}× (budget ${budget}) ${pass ? 'PASS' : 'FAIL'}`);
  };

  const callers = await createCallers(sql, CUSTOMERS);
  await sql`
    INSERT INTO customers (name, email, user_id)
    SELECT 'Bench customer', 'bench-customer-' || u.id || '@example.com', u.id
    FROM unnest(${callers.map((c) => c.id)}::uuid[]) AS u(id)`;
  const products = await sql<{ id: string }[]>`
    INSERT INTO products (sku, name, unit_price)
    SELECT 'BENCH-' || substr(md5(random()::text), 1, 12), 'Bench product ' || g, 1.25 * g
    FROM generate_series(1, 2) g RETURNING id`;
  const items = products.map((p) => ({ product_id: p.id, quantity: 2 }));

  console.log(
    `\n## Create an order (2 lines): handler vs the bare SQL of its transaction (${iterations} each, alternating; ${CUSTOMERS} customers in turn)\n`,
  );
  const create = roundRobin(
    await Promise.all(
      callers.map((c) => makeInvoker(c)('createOrder', '/api/v1/orders', '', { items })),
    ),
  );
  const customerIds = new Map(
    await Promise.all(
      callers.map(async (c) => [c.id, (await findCustomerOfUser(c.id))?.id as string] as const),
    ),
  );
  // The statements the service runs in its transaction: customer, locked products, the order
  // with its lines and history, its audit and e-mail events (no HTTP, JWT, limits, publish).
  const bare = roundRobin(
    callers.map(
      (c) => () =>
        sql.begin(async (tx) => {
          await findCustomerOfUser(c.id, tx);
          await lockProducts(
            tx,
            items.map((i) => i.product_id),
          );
          const order = await insertOrder(tx, {
            customerId: customerIds.get(c.id) as string,
            currency: 'EUR',
            notes: '',
            actorId: c.id,
            lines: items,
          });
          await tx`SELECT 1 FROM order_items WHERE order_id = ${order.id}`;
          // Rows like the service's, of a type of their own: deleted after the timing, so no
          // relay ever publishes them (the load test's stack shares this database).
          for (const queue of ['audit', 'email'] as const) {
            await addToOutbox(tx, { queue, type: BARE_EVENT, payload: { order_id: order.id } });
          }
        }),
    ),
  );
  const [handlerTimes, bareTimes] = await timePair(create, bare, iterations);
  await sql`DELETE FROM outbox WHERE type = ${BARE_EVENT}`;
  const h = line('POST /api/v1/orders through the handler', handlerTimes);
  const b = line('bare SQL of the same transaction', bareTimes);
  report('create order handler ÷ bare SQL', h.median / b.median, 'reported', true);

  console.log(
    `\n## Order list: depth ${DEPTH.toLocaleString('en')} vs the first page (limit 20, ${iterations} each, alternating; ${CUSTOMERS} admins in turn)\n`,
  );
  const [deep] = callers;
  const deepCustomer = customerIds.get(deep?.id as string) as string;
  await sql`
    INSERT INTO orders (customer_id, currency, total, created_at, updated_at)
    SELECT ${deepCustomer}, 'EUR', 2.50, now() - make_interval(secs => g), now() - make_interval(secs => g)
    FROM generate_series(1, ${DEPTH + 100}) g`;
  await sql`ANALYZE orders`;
  const principal: Principal = {
    userId: deep?.id as string,
    role: 'user',
    tokenId: 'bench',
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
  let cursor: string | null = null;
  for (let read = 0; read < DEPTH; read += 100) {
    const page = await listOrders(
      principal,
      ListOrdersQuery.parse({ limit: '100', ...(cursor ? { cursor } : {}) }),
    );
    cursor = page.next_cursor;
  }
  // Admins read that customer's list (`customer_id`), taking turns so no budget runs out.
  const admins = (await createCallers(sql, CUSTOMERS, 'admin')).map(makeInvoker);
  const pageOf = async (query: string) =>
    roundRobin(
      await Promise.all(admins.map((admin) => admin('listOrders', '/api/v1/orders', query))),
    );
  const first = await pageOf(`customer_id=${deepCustomer}&limit=20`);
  const later = await pageOf(`customer_id=${deepCustomer}&limit=20&cursor=${cursor}`);
  const [firstTimes, laterTimes] = await timePair(first, later, iterations);
  const f = line('first page', firstTimes);
  const l = line(`page after ${DEPTH.toLocaleString('en')} orders (keyset)`, laterTimes);
  const depth = l.median / f.median;
  report('order list depth 10,000 ÷ first page', depth, '≤ 1.5×, as notes', depth <= 1.5);

  console.log(`\n## GET /api/v1/orders/{id}: cache hit vs miss (${iterations} each)\n`);
  const orderIds = await sql<{ id: string; user_id: string }[]>`
    SELECT DISTINCT ON (c.user_id) o.id, c.user_id FROM orders o JOIN customers c ON c.id = o.customer_id
    WHERE c.user_id = ANY(${callers.map((c) => c.id)}::uuid[]) ORDER BY c.user_id, o.created_at DESC`;
  const reads = await Promise.all(
    orderIds.map(({ id, user_id }) =>
      makeInvoker(callers.find((c) => c.id === user_id) as (typeof callers)[number])(
        'getOrder',
        `/api/v1/orders/${id}`,
      ),
    ),
  );
  const hit = roundRobin(reads);
  const hits = await time(hit, iterations, reads.length);
  // A miss: a write bumped the order's version in PostgreSQL (what every order write does).
  const miss = roundRobin(
    orderIds.map(({ id }, i) => async () => {
      await bumpCacheVersion(sql, `order:${id}`);
      return (reads[i] as () => Promise<unknown>)();
    }),
  );
  const misses = await time(miss, iterations);
  const hs = line('cache hit (version from PostgreSQL + GET)', hits);
  const missStats = line('cache miss (version, GET, snapshot of 3 reads, SET)', misses);
  report(
    'order by id: cache miss ÷ hit',
    missStats.median / hs.median,
    '> 1.0×',
    missStats.median > hs.median,
  );
  return verdicts;
}
