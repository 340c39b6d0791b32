import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { createCustomer } from '../../shared/orders/customer-service.js';
import { customersRoutes } from '../../shared/routes/customers.js';

export const handler = createHandler(
  customersRoutes.createCustomer,
  async ({ principal, body }) => {
    const customer = await createCustomer(principal, body);
    return {
      status: 201,
      body: customer,
      headers: {
        Location: `/api/v1/customers/${customer.id}`,
        ETag: versionETag(customer.version),
      },
    };
  },
);
