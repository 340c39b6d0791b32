import { createHandler } from '../../shared/http/handler.js';
import { deleteOrder } from '../../shared/orders/order-service.js';
import { ordersRoutes } from '../../shared/routes/orders.js';

export const handler = createHandler(ordersRoutes.deleteOrder, async ({ principal, path }) => {
  await deleteOrder(principal, path.id);
  return { status: 204 };
});
