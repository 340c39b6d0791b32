import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { getCustomer } from '../../shared/orders/customer-service.js';
import { customersRoutes } from '../../shared/routes/customers.js';

export const handler = createHandler(customersRoutes.getCustomer, async ({ principal, path }) => {
  const customer = await getCustomer(principal, path.id);
  return { status: 200, body: customer, headers: { ETag: versionETag(customer.version) } };
});
