import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { createOrder } from '../../shared/orders/order-service.js';
import type { OrderDetail } from '../../shared/orders/schemas.js';
import { ordersRoutes } from '../../shared/routes/orders.js';

const reply = (order: OrderDetail) => ({
  status: 201 as const,
  body: order,
  headers: { Location: `/api/v1/orders/${order.id}`, ETag: versionETag(order.version) },
});

// Committed with the order: with an Idempotency-Key, the key's record and this reply.
export const handler = createHandler(
  ordersRoutes.createOrder,
  async ({ principal, body, idempotency }) =>
    reply(await createOrder(principal, body, idempotency?.hooks(reply))),
);
