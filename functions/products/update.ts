import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { updateProduct } from '../../shared/orders/product-service.js';
import { productsRoutes } from '../../shared/routes/products.js';

export const handler = createHandler(
  productsRoutes.updateProduct,
  async ({ principal, path, body, ifMatch }) => {
    const product = await updateProduct(principal, path.id, body, ifMatch);
    return { status: 200, body: product, headers: { ETag: versionETag(product.version) } };
  },
);
