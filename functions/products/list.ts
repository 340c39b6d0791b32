import { createHandler } from '../../shared/http/handler.js';
import { listProducts } from '../../shared/orders/product-service.js';
import { productsRoutes } from '../../shared/routes/products.js';

export const handler = createHandler(productsRoutes.listProducts, async ({ principal, query }) => ({
  status: 200,
  body: await listProducts(principal, query),
}));
