import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { getProduct } from '../../shared/orders/product-service.js';
import { productsRoutes } from '../../shared/routes/products.js';

export const handler = createHandler(productsRoutes.getProduct, async ({ principal, path }) => {
  const product = await getProduct(principal, path.id);
  return { status: 200, body: product, headers: { ETag: versionETag(product.version) } };
});
