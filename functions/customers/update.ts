import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { updateCustomer } from '../../shared/orders/customer-service.js';
import { customersRoutes } from '../../shared/routes/customers.js';

export const handler = createHandler(
  customersRoutes.updateCustomer,
  async ({ principal, path, body, ifMatch }) => {
    const customer = await updateCustomer(principal, path.id, body, ifMatch);
    return { status: 200, body: customer, headers: { ETag: versionETag(customer.version) } };
  },
);
