/** Routes of orders and their status machine (API.md § Orders); gathered by `./index.ts`. */
import { defineRoute, type RouteDefinition } from '../http/route.js';
import { IfMatchHeaders } from '../http/schemas.js';
import {
  CreateOrderBody,
  IdParams,
  ListOrdersQuery,
  Order,
  OrderDetail,
  OrderPage,
  TransitionBody,
} from '../orders/schemas.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';

const ETAG = 'Strong entity tag of the version, `"<version>"`; send it back in If-Match.';

export const ordersRoutes = {
  createOrder: defineRoute({
    method: 'POST',
    path: '/api/v1/orders',
    function: 'orders/create',
    apiKeyScope: 'orders:write',
    publishes: ['audit', 'email'],
    idempotency: true,
    errors: [404, 409],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Place an order',
    description:
      'A user orders for their own customer (`customer_id` omitted or theirs; another’s is ' +
      '404; no profile yet is 409); an admin names the customer (422 without). 1–20 lines, ' +
      'each product once, quantity 1–20 per line and at most 20 units in total (422, code ' +
      '`order_item_limit`); an unknown or inactive product is 422 on `items.N.product_id`; ' +
      'an inactive customer is 409. Unit prices are copied from the catalog; `total` is ' +
      'their sum, exact. The customer gets a confirmation e-mail.',
    tag: 'orders',
    request: { body: CreateOrderBody },
    responses: { 201: OrderDetail },
    responseHeaders: { Location: 'URL of the new order.', ETag: ETAG },
  }),
  listOrders: defineRoute({
    method: 'GET',
    path: '/api/v1/orders',
    function: 'orders/list',
    apiKeyScope: 'orders:read',
    errors: [400],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Orders with their lines (users: their own; admins: all)',
    description:
      'Newest first by default; `sort=created_at|total`, `order=desc|asc`, `status` (comma ' +
      'separated), `created_from`/`created_to` (inclusive), `customer_id` (admins). Keyset ' +
      'pagination; a cursor is bound to the filters (400 with others).',
    tag: 'orders',
    request: { query: ListOrdersQuery },
    responses: { 200: OrderPage },
  }),
  getOrder: defineRoute({
    method: 'GET',
    path: '/api/v1/orders/{id}',
    function: 'orders/get',
    apiKeyScope: 'orders:read',
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Read an order with its status history (owner or admin)',
    description:
      'Served from the Redis cache when it can be; a write is never followed by an older copy.',
    tag: 'orders',
    request: { path: IdParams },
    responses: { 200: OrderDetail },
    responseHeaders: {
      ETag: ETAG,
      'X-Cache': '`hit`, `miss` or `bypass` (Redis unavailable): how the order was served.',
    },
  }),
  transitionOrder: defineRoute({
    method: 'POST',
    path: '/api/v1/orders/{id}/transitions',
    function: 'orders/transition',
    apiKeyScope: 'orders:write',
    publishes: ['audit', 'email'],
    errors: [400, 403, 404, 409, 412],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Move an order to another status',
    description:
      'pending → processing | cancelled; processing → shipped | cancelled; shipped → ' +
      'delivered; delivered and cancelled are final. Admins make any allowed move; the ' +
      'owner may only cancel a pending order (else 403). A move that is not allowed is 409 ' +
      'whose problem has `allowed`, the moves the current status allows (empty when ' +
      'final). Of concurrent moves from one state exactly one wins. Optional `If-Match`. ' +
      'Moves to shipped and cancelled e-mail the customer.',
    tag: 'orders',
    request: { path: IdParams, headers: IfMatchHeaders, body: TransitionBody },
    responses: { 200: Order },
    responseHeaders: { ETag: ETAG },
  }),
  deleteOrder: defineRoute({
    method: 'DELETE',
    path: '/api/v1/orders/{id}',
    function: 'orders/delete',
    publishes: ['audit'],
    errors: [404, 409],
    auth: 'admin',
    database: true,
    rateLimit: limits.default,
    summary: 'Delete a pending or cancelled order (admins; soft delete, idempotent)',
    description:
      'Any other status is 409. A deleted order is 404 to everyone and left out of lists.',
    tag: 'orders',
    request: { path: IdParams },
    responses: { 204: null },
  }),
} satisfies Record<string, RouteDefinition>;
