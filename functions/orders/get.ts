import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { getOrder } from '../../shared/orders/order-service.js';
import { ordersRoutes } from '../../shared/routes/orders.js';

export const handler = createHandler(ordersRoutes.getOrder, async ({ principal, path }) => {
  const { order, cache } = await getOrder(principal, path.id);
  return {
    status: 200,
    body: order,
    headers: { ETag: versionETag(order.version), 'X-Cache': cache },
  };
});
