import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { putMyCustomer } from '../../shared/orders/customer-service.js';
import { customersRoutes } from '../../shared/routes/customers.js';

export const handler = createHandler(
  customersRoutes.putMyCustomer,
  async ({ principal, body, ifMatch }) => {
    const { customer, created } = await putMyCustomer(principal, body, ifMatch);
    return {
      status: created ? 201 : 200,
      body: customer,
      headers: { ETag: versionETag(customer.version) },
    };
  },
);
