import { createHandler } from '../../shared/http/handler.js';
import { listOrders } from '../../shared/orders/order-service.js';
import { ordersRoutes } from '../../shared/routes/orders.js';

export const handler = createHandler(ordersRoutes.listOrders, async ({ principal, query }) => ({
  status: 200,
  body: await listOrders(principal, query),
}));
