import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../shared/auth/tokens.js';
import { getConfig } from '../../shared/config.js';
import { getSql } from '../../shared/db/client.js';
import { listCustomers } from '../../shared/orders/customer-repository.js';
import {
  listOrders as listOrderRows,
  type OrderListFilters,
} from '../../shared/orders/order-repository.js';
import { listOrders } from '../../shared/orders/order-service.js';
import { listProducts } from '../../shared/orders/product-repository.js';
import { ListOrdersQuery } from '../../shared/orders/schemas.js';
import { useApi } from '../helpers/api.js';
import { createUser, type TestUser } from '../helpers/users.js';

const api = useApi();

let user: TestUser;
let customerId: string;
const ORDERS = 150;

beforeAll(async () => {
  user = await createUser(api);
  const sql = getSql();
  const [customer] = await sql<{ id: string }[]>`
    INSERT INTO customers (name, email, user_id)
    VALUES ('Bulk buyer', ${`bulk-${randomUUID()}@example.com`}, ${user.id}) RETURNING id`;
  customerId = customer?.id as string;
  // Other customers' orders around them, so the plans are those of a shared table.
  const [other] = await sql<{ id: string }[]>`
    INSERT INTO customers (name, email) VALUES ('Other', ${`o-${randomUUID()}@example.com`})
    RETURNING id`;
  const products = await sql<{ id: string }[]>`
    INSERT INTO products (sku, name, unit_price)
    SELECT 'Q-' || ${randomUUID().slice(0, 8)} || '-' || g, 'Bulk ' || g, g * 1.25
    FROM generate_series(1, 2) g RETURNING id`;
  for (const [owner, count] of [
    [customerId, ORDERS],
    [other?.id as string, 3000],
  ] as const) {
    await sql`
      WITH o AS (
        INSERT INTO orders (customer_id, currency, total, created_at, updated_at)
        SELECT ${owner}, 'EUR', 0, now() - make_interval(secs => g), now() - make_interval(secs => g)
        FROM generate_series(1, ${count}) g RETURNING id
      )
      INSERT INTO order_items (order_id, line_no, product_id, sku, product_name, quantity, unit_price, line_total)
      SELECT o.id, p.n, p.id, 'SKU', 'Bulk', 1, 1.25, 1.25
      FROM o CROSS JOIN (SELECT id, row_number() OVER (ORDER BY id)::int AS n FROM unnest(${products.map((p) => p.id)}::uuid[]) AS t(id)) p`;
  }
  await sql`UPDATE orders SET total = 2.50 WHERE total = 0`;
  // A catalog and a customer base large enough for their indexes to matter.
  const tag = randomUUID().slice(0, 8);
  await sql`
    INSERT INTO products (sku, name, unit_price, active)
    SELECT 'PLAN-' || ${tag} || '-' || g, 'Plan product ' || g, 1.00, g % 10 <> 0
    FROM generate_series(1, 3000) g`;
  await sql`
    INSERT INTO customers (name, email, created_at)
    SELECT 'Plan customer ' || g, 'plan-' || ${tag} || '-' || g || '@example.com',
           now() - make_interval(secs => g)
    FROM generate_series(1, 3000) g`;
  await sql`ANALYZE products`;
  await sql`ANALYZE customers`;
  await sql`ANALYZE orders`;
  await sql`ANALYZE order_items`;
});

afterEach(() => {
  getSql().options.debug = false;
});

const principal = (): Principal => ({
  userId: user.id,
  role: 'user',
  tokenId: randomUUID(),
  expiresAt: Math.floor(Date.now() / 1000) + 600,
});

/** The SQL statements `run` sends through the functions' client. */
async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  getSql().options.debug = (_connection, query) => statements.push(query);
  await run();
  getSql().options.debug = false;
  return statements;
}

describe('order list queries', () => {
  it('reads a page of 1 and a page of 100 with the same few queries (no N+1)', async () => {
    for (const sort of ['created_at', 'total'] as const) {
      const small = await statementsOf(() =>
        listOrders(principal(), ListOrdersQuery.parse({ limit: '1', sort })),
      );
      let page: Awaited<ReturnType<typeof listOrders>> | undefined;
      const large = await statementsOf(async () => {
        page = await listOrders(principal(), ListOrdersQuery.parse({ limit: '100', sort }));
      });
      expect(page?.items).toHaveLength(100);
      expect(page?.items.every((order) => order.items.length === 2)).toBe(true);
      expect(large).toHaveLength(small.length);
      // The caller's customer, the page, its lines.
      expect(large).toHaveLength(3);
    }
  });
});

/**
 * EXPLAIN of the statement `run` sends on `table` through a client that records it, with the
 * same parameters.
 */
async function explain(
  table: RegExp,
  run: (sql: postgres.Sql) => Promise<unknown>,
): Promise<string> {
  const statements: { query: string; parameters: unknown[] }[] = [];
  const sql = postgres(getConfig().DATABASE_URL as string, {
    max: 1,
    prepare: false,
    onnotice: () => {},
    debug: (_connection, query, parameters) => statements.push({ query, parameters }),
  });
  try {
    await run(sql);
    const [statement] = statements.filter((s) => table.test(s.query));
    const plan = await sql.unsafe<{ 'QUERY PLAN': string }[]>(
      `EXPLAIN ${statement?.query}`,
      statement?.parameters as postgres.ParameterOrJSON<never>[],
    );
    return plan.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const explainOrders = (filters: Partial<OrderListFilters>) =>
  explain(/\bFROM orders o\b/, (sql) =>
    listOrderRows(
      {
        customerId: null,
        statuses: undefined,
        createdFrom: undefined,
        createdTo: undefined,
        sort: 'created_at',
        order: 'desc',
        limit: 20,
        ...filters,
      },
      null,
      sql,
    ),
  );

describe('list plans', () => {
  it('the catalog page (users: active only) is an index scan of products_name_idx, no sort', async () => {
    const plan = await explain(/\bFROM products\b/, (sql) =>
      listProducts({ active: true, q: undefined, limit: 20 }, null, sql),
    );
    expect(plan).toMatch(/Index Scan using products_name_idx on products/);
    expect(plan).not.toMatch(/Seq Scan|\bSort\b/);
  });

  it('the customers page is an index scan of customers_created_idx, no sort', async () => {
    const plan = await explain(/\bFROM customers\b/, (sql) =>
      listCustomers({ q: undefined, tier: undefined, active: null, limit: 20 }, null, sql),
    );
    expect(plan).toMatch(/Index Scan Backward using customers_created_idx on customers/);
    expect(plan).not.toMatch(/Seq Scan|\bSort\b/);
  });

  it.each([
    ["a customer's newest first", { customerId: 'own' }, 'orders_customer_created_idx'],
    ["a customer's by total", { customerId: 'own', sort: 'total' }, 'orders_customer_total_idx'],
    ['all newest first (admins)', {}, 'orders_created_idx'],
    ['all by total, ascending (admins)', { sort: 'total', order: 'asc' }, 'orders_total_idx'],
  ] as const)('%s: an index scan of %s, no sort', async (_label, filters, index) => {
    const plan = await explainOrders({
      ...filters,
      customerId: 'customerId' in filters ? customerId : null,
    } as Partial<OrderListFilters>);
    expect(plan).toMatch(new RegExp(`Index Scan (Backward )?using ${index} on orders`));
    expect(plan).not.toMatch(/Seq Scan/);
    expect(plan).not.toMatch(/\bSort\b/);
  });
});
