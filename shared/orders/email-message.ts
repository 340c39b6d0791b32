/**
 * The e-mail queue's message schema (the e-mail worker's input; no route documents it), in
 * zod/mini for the worker's bundle. The orders domain publishes it through the outbox:
 * `addToOutbox(tx, {queue: 'email', type: 'order.created' | 'order.status_changed',
 * payload: OrderEmailPayload})`, which wraps it in the outbox's `EventMessage`.
 */
import * as z from 'zod/mini';
import { Timestamp } from '../schemas.js';

/** An order's status (API.md § Orders: the status machine). */
export const OrderEmailStatus = z.enum([
  'pending',
  'processing',
  'shipped',
  'delivered',
  'cancelled',
]);
export type OrderEmailStatus = z.output<typeof OrderEmailStatus>;

/** A money amount as the orders domain writes it: a decimal string, at most two decimals. */
const Amount = z
  .string()
  .check(z.regex(/^(0|[1-9]\d{0,11})(\.\d{1,2})?$/, 'must be a decimal string like "12.50"'));

const Text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/** What the e-mail says about the order, as of the event. */
export const OrderEmailPayload = z.object({
  order_id: z.uuid(),
  /** The order's status after the event (`pending` for `order.created`). */
  status: OrderEmailStatus,
  /** The status before a move; null for `order.created`. */
  previous_status: z.nullable(OrderEmailStatus),
  /** The reason given with a move, if any. */
  reason: z.nullable(z.string().check(z.maxLength(2000))),
  recipient: z.object({ email: z.email(), name: Text(200) }),
  /** ISO 4217 code, e.g. `EUR`. */
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like "EUR"')),
  total: Amount,
  items: z
    .array(
      z.object({
        sku: Text(100),
        product_name: Text(200),
        quantity: z.int().check(z.gte(1), z.lte(1000)),
        unit_price: Amount,
        line_total: Amount,
      }),
    )
    .check(z.minLength(1), z.maxLength(100)),
});
export type OrderEmailPayload = z.output<typeof OrderEmailPayload>;

/** The event types that may produce an e-mail. */
export const OrderEmailEventType = z.enum(['order.created', 'order.status_changed']);
export type OrderEmailEventType = z.output<typeof OrderEmailEventType>;

/** An order event as it travels on the e-mail queue (the outbox's `EventMessage`). */
export const OrderEmailMessage = z.object({
  event_id: z.uuid(),
  type: OrderEmailEventType,
  occurred_at: Timestamp,
  payload: OrderEmailPayload,
});
export type OrderEmailMessage = z.output<typeof OrderEmailMessage>;
