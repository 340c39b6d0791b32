import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { getMyCustomer } from '../../shared/orders/customer-service.js';
import { customersRoutes } from '../../shared/routes/customers.js';

export const handler = createHandler(customersRoutes.getMyCustomer, async ({ principal }) => {
  const customer = await getMyCustomer(principal);
  return { status: 200, body: customer, headers: { ETag: versionETag(customer.version) } };
});
