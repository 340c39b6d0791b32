import { addAuditEvent } from '../audit/events.js';
import type { Principal } from '../auth/tokens.js';
import {
  bumpCacheVersion,
  type CacheStatus,
  cacheAside,
  readCacheVersion,
} from '../cache/cache-aside.js';
import { getConfig } from '../config.js';
import {
  isForeignKeyViolation,
  type TransactionSql,
  withReadSnapshot,
  withTransaction,
} from '../db/client.js';
import { type TransactionHooks, withTransactionHooks } from '../db/transaction-hooks.js';
import {
  Conflict,
  type FieldError,
  Forbidden,
  NotFound,
  PreconditionFailed,
  ValidationFailed,
} from '../errors.js';
import { decimalValue, decodeKeysetCursor, keysetPage, timestampValue } from '../keyset-cursor.js';
import { addToOutbox, publishNow } from '../queue/outbox.js';
import * as customers from './customer-repository.js';
import type { OrderEmailEventType, OrderEmailPayload } from './email-message.js';
import * as repository from './order-repository.js';
import { lockProducts } from './product-repository.js';
import type { CreateOrderBody, ListOrdersQuery, Order, OrderDetail, OrderPage } from './schemas.js';
import {
  allowedMoves,
  isAllowedMove,
  notifiesCustomer,
  type OrderStatus,
  ownerMayMove,
} from './status-machine.js';

/** Most units one order may hold, over all its lines (API.md § Orders: `order_item_limit`). */
export const ORDER_ITEM_LIMIT = 20;

const NOT_FOUND = 'No order with this id.';
const isAdmin = (caller: Principal) => caller.role === 'admin';

function toItem(row: repository.OrderItemRow): Order['items'][number] {
  return {
    product_id: row.product_id,
    sku: row.sku,
    product_name: row.product_name,
    quantity: row.quantity,
    unit_price: row.unit_price,
    line_total: row.line_total,
  };
}

/** An order row and its lines as the API shows them. */
function toOrder(row: repository.OrderRow, items: repository.OrderItemRow[]): Order {
  return {
    id: row.id,
    customer_id: row.customer_id,
    status: row.status,
    currency: row.currency,
    total: row.total,
    notes: row.notes,
    items: items.map(toItem),
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** The order, its lines and its history (oldest first), read in `sql`. */
async function readDetail(row: repository.OrderRow, sql?: TransactionSql): Promise<OrderDetail> {
  const [items, history] = await Promise.all([
    repository.findItems([row.id], sql),
    repository.findHistory(row.id, sql),
  ]);
  return {
    ...toOrder(row, items),
    status_history: history.map((change) => ({
      from: change.from_status,
      to: change.to_status,
      at: change.at.toISOString(),
      actor_id: change.actor_id,
      reason: change.reason,
    })),
  };
}

/**
 * Cache scope of one order: its version lives in `cache_versions` and every write of the
 * order bumps it in its transaction (DESIGN.md § Redis), so no read serves a copy from
 * before a write that has answered.
 */
const cacheScope = (orderId: string) => `order:${orderId.toLowerCase()}`;

/** The e-mail event of an order (queue `email`): the message the e-mail worker renders. */
function emailEvent(
  order: OrderDetail,
  customer: { email: string; name: string },
  type: OrderEmailEventType,
  previous: OrderStatus | null,
  reason: string | null,
) {
  const payload: OrderEmailPayload = {
    order_id: order.id,
    status: order.status,
    previous_status: previous,
    reason,
    recipient: { email: customer.email, name: customer.name },
    currency: order.currency,
    total: order.total,
    items: order.items.map((item) => ({
      sku: item.sku,
      product_name: item.product_name,
      quantity: item.quantity,
      unit_price: item.unit_price,
      line_total: item.line_total,
    })),
  };
  return { queue: 'email' as const, type, payload };
}

/**
 * Runs a write whose rows name the acting user (`created_by`, a history row's `actor_id`): a
 * still-valid token of an account deleted since gets `NotFound`, as `GET /users/me` answers.
 */
async function asExistingAccount<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new NotFound('The account no longer exists.');
    throw error;
  }
}

/** The rules of an order's lines the schema cannot say: each product once, ≤ 20 units. */
function checkLines(items: CreateOrderBody['items']): void {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const id = item.product_id.toLowerCase();
    if (seen.has(id)) {
      errors.push({
        field: `items.${index}.product_id`,
        message: 'This product is on an earlier line: order it once, with the total quantity.',
        code: 'duplicate_product',
      });
    }
    seen.add(id);
  });
  const units = items.reduce((sum, item) => sum + item.quantity, 0);
  if (units > ORDER_ITEM_LIMIT) {
    errors.push({
      field: 'items',
      message: `An order holds at most ${ORDER_ITEM_LIMIT} units in total; this one has ${units}.`,
      code: 'order_item_limit',
    });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
}

/**
 * The customer an order is placed for: the caller's own (users) or the named one (admins).
 * The order's foreign key takes `FOR KEY SHARE` on it, which does not block a concurrent
 * `active = false`: an order and a deactivation that race are both kept, in some order.
 */
async function customerFor(
  caller: Principal,
  customerId: string | undefined,
  tx: TransactionSql,
): Promise<customers.CustomerRow> {
  if (isAdmin(caller)) {
    if (!customerId) {
      throw new ValidationFailed([
        {
          field: 'customer_id',
          message: 'Admins name the customer of the order.',
          code: 'required',
        },
      ]);
    }
    const customer = await customers.findCustomer(customerId, tx);
    if (!customer) {
      throw new ValidationFailed([
        { field: 'customer_id', message: 'No customer with this id.', code: 'unknown_customer' },
      ]);
    }
    return customer;
  }
  const own = await customers.findCustomerOfUser(caller.userId, tx);
  if (customerId && customerId.toLowerCase() !== own?.id)
    throw new NotFound('No customer with this id.');
  if (!own) {
    throw new Conflict(
      'You have no customer profile yet. Create it with PUT /api/v1/customers/me.',
    );
  }
  return own;
}

/**
 * Places an order (API.md § Orders): for the caller's own customer (users) or the named one
 * (admins); lines checked against the catalog, unit prices copied from it, totals computed
 * exactly by PostgreSQL. Order, lines, first history row, the `order.created` audit and
 * e-mail events and (through `hooks`) the idempotency record commit in one transaction
 * (`withTransactionHooks`: with hooks, the write runs in a savepoint, so a 409/422 below is
 * recorded in the same transaction as its rollback); the events are published after commit
 * (best effort; the relay retries).
 * Errors: `ValidationFailed` (422: `order_item_limit`, `duplicate_product`, unknown or
 * inactive product on `items.N.product_id`, admin without `customer_id`); `NotFound`
 * (another's customer); `Conflict` (409: no customer profile yet, inactive customer).
 */
export async function createOrder(
  caller: Principal,
  body: CreateOrderBody,
  hooks?: TransactionHooks<OrderDetail>,
): Promise<OrderDetail> {
  checkLines(body.items);
  let eventIds: string[] = [];
  const order = await asExistingAccount(() =>
    withTransactionHooks(async (tx) => {
      const customer = await customerFor(caller, body.customer_id, tx);
      if (!customer.active) throw new Conflict('The customer is inactive and cannot place orders.');
      const products = new Map(
        (
          await lockProducts(
            tx,
            body.items.map((item) => item.product_id),
          )
        ).map((p) => [p.id, p]),
      );
      const errors: FieldError[] = [];
      body.items.forEach((item, index) => {
        const product = products.get(item.product_id.toLowerCase());
        if (!product?.active) {
          errors.push({
            field: `items.${index}.product_id`,
            message: product ? 'This product is not for sale.' : 'No product with this id.',
            code: product ? 'inactive_product' : 'unknown_product',
          });
        }
      });
      if (errors.length > 0) throw new ValidationFailed(errors);
      const row = await repository.insertOrder(tx, {
        customerId: customer.id,
        currency: getConfig().CURRENCY,
        notes: body.notes,
        actorId: caller.userId,
        lines: body.items,
      });
      const order = await readDetail(row, tx);
      eventIds = [
        await addAuditEvent(tx, {
          action: 'order.created',
          actorId: caller.userId,
          resourceType: 'order',
          resourceId: order.id,
          metadata: { customer_id: customer.id, total: order.total, currency: order.currency },
        }),
        await addToOutbox(tx, emailEvent(order, customer, 'order.created', null, null)),
      ];
      return order;
    }, hooks),
  );
  await publishNow(eventIds);
  return order;
}

/** The order for a caller who may see it (its customer's user, or an admin), else null. */
function visibleTo(caller: Principal, row: repository.OwnedOrderRow | null) {
  if (!row) return null;
  return isAdmin(caller) || row.customer_user_id === caller.userId ? row : null;
}

/**
 * An order with its history, for its owner or an admin (anyone else: `NotFound`, as for an
 * order that does not exist or was deleted). Served cache-aside from Redis under the order's
 * version in PostgreSQL; `cache` says how.
 */
export async function getOrder(
  caller: Principal,
  id: string,
): Promise<{ order: OrderDetail; cache: CacheStatus }> {
  const scope = cacheScope(id);
  const { value, cache } = await cacheAside({
    scope,
    variant: 'detail',
    ttlSeconds: getConfig().ORDERS_CACHE_TTL_SECONDS,
    version: () => readCacheVersion(scope),
    // One snapshot for the order, its lines and its history: a move committing meanwhile is
    // seen in all three or in none (the copy may be cached).
    load: () =>
      withReadSnapshot(async (tx) => {
        const row = await repository.findOrder(id, {}, tx);
        // Not cached: a later order with this id could never be created, but a miss is cheap.
        if (!row) throw new NotFound(NOT_FOUND);
        return { owner: row.customer_user_id, order: await readDetail(row, tx) };
      }),
  });
  if (!isAdmin(caller) && value.owner !== caller.userId) throw new NotFound(NOT_FOUND);
  return { order: value.order, cache };
}

/**
 * Moves an order to `to` (API.md § Orders, the status machine). The order row is locked
 * for the transaction, so of concurrent moves from one state exactly one wins; the others
 * then see the new state. Adds the history row, bumps the cached copy's version, audits
 * `order.status_changed` and, on `shipped` and `cancelled`, queues the customer's notice.
 * Errors: `NotFound` (absent, deleted, someone else's); `PreconditionFailed` (412, If-Match);
 * `Forbidden` (403: an owner doing anything but cancelling a pending order); `Conflict` (409
 * with `allowed`, the moves the current status allows).
 */
export async function transitionOrder(
  caller: Principal,
  id: string,
  move: { status: OrderStatus; reason?: string | undefined },
  expected: number[] | null,
): Promise<Order> {
  const { order, eventIds } = await asExistingAccount(() =>
    withTransaction(async (tx) => {
      const row = visibleTo(caller, await repository.findOrder(id, { lock: true }, tx));
      if (!row) throw new NotFound(NOT_FOUND);
      if (expected && !expected.includes(row.version)) throw new PreconditionFailed();
      if (!isAdmin(caller) && !ownerMayMove(row.status, move.status)) {
        throw new Forbidden('You may only cancel an order while it is pending.');
      }
      if (!isAllowedMove(row.status, move.status)) {
        const allowed = allowedMoves(row.status);
        throw new Conflict(
          allowed.length
            ? `An order that is ${row.status} can move to ${allowed.join(' or ')} only.`
            : `An order that is ${row.status} cannot move any more.`,
          { allowed },
        );
      }
      const reason = move.reason ? move.reason : null;
      const moved = await repository.moveOrder(tx, {
        id: row.id,
        from: row.status,
        to: move.status,
        actorId: caller.userId,
        reason,
      });
      await bumpCacheVersion(tx, cacheScope(row.id));
      const order = await readDetail(moved, tx);
      const eventIds = [
        await addAuditEvent(tx, {
          action: 'order.status_changed',
          actorId: caller.userId,
          resourceType: 'order',
          resourceId: row.id,
          metadata: { from: row.status, to: move.status, reason, version: moved.version },
        }),
      ];
      if (notifiesCustomer(move.status)) {
        const recipient = { email: row.customer_email, name: row.customer_name };
        eventIds.push(
          await addToOutbox(
            tx,
            emailEvent(order, recipient, 'order.status_changed', row.status, reason),
          ),
        );
      }
      return { order, eventIds };
    }),
  );
  await publishNow(eventIds);
  const { status_history: _history, ...rest } = order;
  return rest;
}

/**
 * Soft-deletes a pending or cancelled order (admins): it is 404 to everyone afterwards and
 * left out of lists; audits `order.deleted`. Idempotent: deleting a deleted order changes
 * nothing. Errors: `NotFound`; `Conflict` (409) for an order in any other status.
 */
export async function deleteOrder(caller: Principal, id: string): Promise<void> {
  const eventId = await withTransaction(async (tx) => {
    const row = await repository.findOrder(id, { lock: true, includeDeleted: true }, tx);
    if (!row) throw new NotFound(NOT_FOUND);
    if (row.deleted_at) return null;
    if (row.status !== 'pending' && row.status !== 'cancelled') {
      throw new Conflict(
        `Only a pending or cancelled order can be deleted; this one is ${row.status}.`,
      );
    }
    await repository.softDeleteOrder(tx, row.id);
    await bumpCacheVersion(tx, cacheScope(row.id));
    return addAuditEvent(tx, {
      action: 'order.deleted',
      actorId: caller.userId,
      resourceType: 'order',
      resourceId: row.id,
      metadata: { status: row.status },
    });
  });
  if (eventId) await publishNow([eventId]);
}

/**
 * One page of orders with their lines: a user's own customer's, an admin's all (or one
 * customer's). Keyset by the sort column and id, cursors bound to the filters. A fixed
 * number of queries whatever the page size: the caller's customer, the page, its lines.
 * Errors: `BadRequest` for a malformed cursor or one from other filters.
 */
export async function listOrders(caller: Principal, query: ListOrdersQuery): Promise<OrderPage> {
  let customerId: string | null = query.customer_id?.toLowerCase() ?? null;
  if (!isAdmin(caller)) {
    const own = await customers.findCustomerOfUser(caller.userId);
    // Without a profile, or filtering on another's customer, there is nothing to see.
    if (!own || (customerId && customerId !== own.id)) {
      return { items: [], limit: query.limit, next_cursor: null };
    }
    customerId = own.id;
  }
  const filters: repository.OrderListFilters = {
    customerId,
    statuses: query.status,
    createdFrom: query.created_from,
    createdTo: query.created_to,
    sort: query.sort,
    order: query.order,
    limit: query.limit,
  };
  const bound = [
    filters.customerId,
    filters.statuses ?? null,
    filters.createdFrom ?? null,
    filters.createdTo ?? null,
    filters.sort,
    filters.order,
  ];
  const check = query.sort === 'total' ? decimalValue : timestampValue;
  const after = query.cursor ? decodeKeysetCursor(bound, query.cursor, check) : null;
  const page = keysetPage(
    await repository.listOrders(filters, after),
    query.limit,
    bound,
    (row) => row.sort_key,
  );
  const items = await repository.findItems(page.rows.map((row) => row.id));
  const byOrder = new Map<string, repository.OrderItemRow[]>();
  for (const item of items)
    byOrder.set(item.order_id, [...(byOrder.get(item.order_id) ?? []), item]);
  return {
    items: page.rows.map((row) => toOrder(row, byOrder.get(row.id) ?? [])),
    limit: query.limit,
    next_cursor: page.next_cursor,
  };
}
