import { getSql, type Queryable } from '../db/client.js';
import type { KeysetPosition } from '../keyset-cursor.js';
import type { OrderStatus } from './status-machine.js';

export interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  currency: string;
  /** `numeric(12,2)` as text. */
  total: string;
  notes: string;
  version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** An order with the parts of its customer the rules need (owner, e-mail recipient). */
export interface OwnedOrderRow extends OrderRow {
  customer_user_id: string | null;
  customer_email: string;
  customer_name: string;
}

export interface OrderItemRow {
  order_id: string;
  line_no: number;
  product_id: string;
  sku: string;
  product_name: string;
  quantity: number;
  unit_price: string;
  line_total: string;
}

export interface StatusChangeRow {
  from_status: OrderStatus | null;
  to_status: OrderStatus;
  at: Date;
  actor_id: string | null;
  reason: string | null;
}

const COLUMNS =
  'o.id, o.customer_id, o.status, o.currency, o.total, o.notes, o.version, o.created_at, ' +
  'o.updated_at, o.deleted_at';
const OWNED = `${COLUMNS}, c.user_id AS customer_user_id, c.email AS customer_email, c.name AS customer_name`;

/**
 * Inserts an order for `customerId` with one line per `lines` entry (in that order, line 1
 * first), copying each product's sku, name and unit price from the catalog; line totals and
 * the order total are computed by PostgreSQL in `numeric` (exact). Adds the first history
 * row (`null` → `pending`). One statement; the caller has checked and locked the products.
 */
export async function insertOrder(
  sql: Queryable,
  order: {
    customerId: string;
    currency: string;
    notes: string;
    actorId: string;
    lines: { product_id: string; quantity: number }[];
  },
): Promise<OrderRow> {
  const [row] = await sql<OrderRow[]>`
    WITH lines AS (
      SELECT l.line_no::int AS line_no, p.id AS product_id, p.sku, p.name AS product_name,
             l.quantity, p.unit_price, p.unit_price * l.quantity AS line_total
      FROM unnest(${order.lines.map((l) => l.product_id)}::uuid[],
                  ${order.lines.map((l) => l.quantity)}::int[])
           WITH ORDINALITY AS l(product_id, quantity, line_no)
      JOIN products p ON p.id = l.product_id
    ), o AS (
      INSERT INTO orders (customer_id, currency, total, notes, created_by)
      SELECT ${order.customerId}, ${order.currency}, sum(line_total), ${order.notes}, ${order.actorId}
      FROM lines
      RETURNING *
    ), items AS (
      INSERT INTO order_items
        (order_id, line_no, product_id, sku, product_name, quantity, unit_price, line_total)
      SELECT o.id, lines.line_no, lines.product_id, lines.sku, lines.product_name,
             lines.quantity, lines.unit_price, lines.line_total
      FROM lines CROSS JOIN o
    ), history AS (
      INSERT INTO order_status_history (order_id, from_status, to_status, actor_id, at)
      SELECT o.id, NULL, 'pending', ${order.actorId}, o.created_at FROM o
    )
    SELECT ${sql.unsafe(COLUMNS)} FROM o`;
  return row as OrderRow;
}

/**
 * The order with this id and its customer's owner and contact, or null when absent or
 * soft-deleted. `lock`: `FOR UPDATE` of the order row until the transaction ends, so moves
 * of one order run one after another.
 */
export async function findOrder(
  id: string,
  options: { lock?: boolean; includeDeleted?: boolean } = {},
  sql: Queryable = getSql(),
): Promise<OwnedOrderRow | null> {
  const [row] = await sql<OwnedOrderRow[]>`
    SELECT ${sql.unsafe(OWNED)}
    FROM orders o JOIN customers c ON c.id = o.customer_id
    WHERE o.id = ${id} ${options.includeDeleted ? sql`` : sql`AND o.deleted_at IS NULL`}
    ${options.lock ? sql`FOR UPDATE OF o` : sql``}`;
  return row ?? null;
}

/** The lines of these orders, by order then line number: one query for a whole page. */
export async function findItems(
  orderIds: string[],
  sql: Queryable = getSql(),
): Promise<OrderItemRow[]> {
  if (orderIds.length === 0) return [];
  return sql<OrderItemRow[]>`
    SELECT order_id, line_no, product_id, sku, product_name, quantity, unit_price, line_total
    FROM order_items WHERE order_id = ANY(${orderIds}::uuid[])
    ORDER BY order_id, line_no`;
}

/** The order's status history, oldest first. */
export async function findHistory(
  orderId: string,
  sql: Queryable = getSql(),
): Promise<StatusChangeRow[]> {
  return sql<StatusChangeRow[]>`
    SELECT from_status, to_status, at, actor_id, reason
    FROM order_status_history WHERE order_id = ${orderId} ORDER BY id`;
}

/** Sets the status of a locked order, bumps its version and adds the history row. */
export async function moveOrder(
  sql: Queryable,
  move: { id: string; from: OrderStatus; to: OrderStatus; actorId: string; reason: string | null },
): Promise<OrderRow> {
  const [row] = await sql<OrderRow[]>`
    WITH moved AS (
      UPDATE orders o SET status = ${move.to}, version = version + 1, updated_at = now()
      WHERE o.id = ${move.id} AND o.status = ${move.from}
      RETURNING *
    ), history AS (
      INSERT INTO order_status_history (order_id, from_status, to_status, actor_id, reason, at)
      SELECT id, ${move.from}, ${move.to}, ${move.actorId}, ${move.reason}, updated_at FROM moved
    )
    SELECT ${sql.unsafe(COLUMNS)} FROM moved o`;
  return row as OrderRow;
}

/** Soft-deletes a locked order (sets `deleted_at`, bumps its version). */
export async function softDeleteOrder(sql: Queryable, id: string): Promise<void> {
  await sql`
    UPDATE orders SET deleted_at = now(), version = version + 1, updated_at = now()
    WHERE id = ${id} AND deleted_at IS NULL`;
}

/** The filters of an order list, as the service resolved them for the caller. */
export interface OrderListFilters {
  /** Only this customer's orders (a user's own; an admin's filter); null: all. */
  customerId: string | null;
  statuses: OrderStatus[] | undefined;
  createdFrom: string | undefined;
  createdTo: string | undefined;
  sort: 'created_at' | 'total';
  order: 'asc' | 'desc';
  limit: number;
}

/**
 * One keyset page of orders (not deleted), `limit + 1` rows, ordered by the sort column then
 * id in the same direction; each row's `sort_key` is its sort value as text (created_at in
 * UTC with microseconds, or the total). Served by `orders_<customer_>?<sort>_idx`.
 */
export async function listOrders(
  filters: OrderListFilters,
  after: KeysetPosition | null,
  sql: Queryable = getSql(),
): Promise<(OrderRow & { sort_key: string })[]> {
  const column = sql(filters.sort);
  const sortKey =
    filters.sort === 'total'
      ? sql`o.total::text`
      : sql`to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  const direction = filters.order === 'asc' ? sql`ASC` : sql`DESC`;
  const afterValue =
    filters.sort === 'total'
      ? sql`${after?.value ?? '0'}::numeric`
      : sql`${after?.value ?? ''}::text::timestamptz`;
  const keyset = after
    ? filters.order === 'asc'
      ? sql`AND (o.${column}, o.id) > (${afterValue}, ${after.id}::uuid)`
      : sql`AND (o.${column}, o.id) < (${afterValue}, ${after.id}::uuid)`
    : sql``;
  return sql<(OrderRow & { sort_key: string })[]>`
    SELECT ${sql.unsafe(COLUMNS)}, ${sortKey} AS sort_key
    FROM orders o
    WHERE o.deleted_at IS NULL
      ${filters.customerId ? sql`AND o.customer_id = ${filters.customerId}` : sql``}
      ${filters.statuses ? sql`AND o.status = ANY(${filters.statuses}::text[])` : sql``}
      ${filters.createdFrom ? sql`AND o.created_at >= ${filters.createdFrom}::text::timestamptz` : sql``}
      ${filters.createdTo ? sql`AND o.created_at <= ${filters.createdTo}::text::timestamptz` : sql``}
      ${keyset}
    ORDER BY o.${column} ${direction}, o.id ${direction}
    LIMIT ${filters.limit + 1}`;
}
