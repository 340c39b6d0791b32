import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { transitionOrder } from '../../shared/orders/order-service.js';
import { ordersRoutes } from '../../shared/routes/orders.js';

export const handler = createHandler(
  ordersRoutes.transitionOrder,
  async ({ principal, path, body, ifMatch }) => {
    const order = await transitionOrder(principal, path.id, body, ifMatch);
    return { status: 200, body: order, headers: { ETag: versionETag(order.version) } };
  },
);
