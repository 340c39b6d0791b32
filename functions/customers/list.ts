import { createHandler } from '../../shared/http/handler.js';
import { listCustomers } from '../../shared/orders/customer-service.js';
import { customersRoutes } from '../../shared/routes/customers.js';

export const handler = createHandler(customersRoutes.listCustomers, async ({ query }) => ({
  status: 200,
  body: await listCustomers(query),
}));
