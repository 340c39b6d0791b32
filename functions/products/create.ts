import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { createProduct } from '../../shared/orders/product-service.js';
import { productsRoutes } from '../../shared/routes/products.js';

export const handler = createHandler(productsRoutes.createProduct, async ({ principal, body }) => {
  const product = await createProduct(principal, body);
  return {
    status: 201,
    body: product,
    headers: { Location: `/api/v1/products/${product.id}`, ETag: versionETag(product.version) },
  };
});
