/** Routes of the product catalog (API.md § Orders); gathered by `./index.ts`. */
import { defineRoute, type RouteDefinition } from '../http/route.js';
import { IfMatchHeaders } from '../http/schemas.js';
import {
  CreateProductBody,
  IdParams,
  ListProductsQuery,
  PatchProductBody,
  Product,
  ProductPage,
} from '../orders/schemas.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';

const ETAG = 'Strong entity tag of the version, `"<version>"`; send it back in If-Match.';

export const productsRoutes = {
  listProducts: defineRoute({
    method: 'GET',
    path: '/api/v1/products',
    function: 'products/list',
    apiKeyScope: 'orders:read',
    errors: [400],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'The product catalog by name',
    description:
      'Keyset pagination (`next_cursor` back as `cursor`, same filters). Users see active ' +
      'products only; admins may pass `active=false|all`.',
    tag: 'products',
    request: { query: ListProductsQuery },
    responses: { 200: ProductPage },
  }),
  getProduct: defineRoute({
    method: 'GET',
    path: '/api/v1/products/{id}',
    function: 'products/get',
    apiKeyScope: 'orders:read',
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Read a product (an inactive one is 404 to users)',
    tag: 'products',
    request: { path: IdParams },
    responses: { 200: Product },
    responseHeaders: { ETag: ETAG },
  }),
  createProduct: defineRoute({
    method: 'POST',
    path: '/api/v1/products',
    function: 'products/create',
    publishes: ['audit'],
    errors: [409],
    auth: 'admin',
    database: true,
    rateLimit: limits.default,
    summary: 'Add a product to the catalog (admins)',
    description: 'Prices are decimal strings with at most two decimals. A taken sku is 409.',
    tag: 'products',
    request: { body: CreateProductBody },
    responses: { 201: Product },
    responseHeaders: { Location: 'URL of the new product.', ETag: ETAG },
  }),
  updateProduct: defineRoute({
    method: 'PATCH',
    path: '/api/v1/products/{id}',
    function: 'products/update',
    publishes: ['audit'],
    errors: [400, 404, 412],
    auth: 'admin',
    database: true,
    rateLimit: limits.default,
    summary: 'Change a product (admins)',
    description:
      'Optional `If-Match`: 412 when stale. A price change never alters existing orders, ' +
      'which keep the prices they were placed with.',
    tag: 'products',
    request: { path: IdParams, headers: IfMatchHeaders, body: PatchProductBody },
    responses: { 200: Product },
    responseHeaders: { ETag: ETAG },
  }),
} satisfies Record<string, RouteDefinition>;
