/** Routes of inventory time series (bulk store, range query); gathered by `./index.ts`. */
import { defineRoute, type RouteDefinition } from '../http/route.js';
import { InventoryPage, InventoryQuery, InventoryUpdateBody } from '../inventory/schemas.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';

export const inventoryRoutes = {
  inventoryUpdate: defineRoute({
    method: 'POST',
    path: '/api/v1/inventory/update',
    function: 'inventory/update',
    apiKeyScope: 'inventory:write',
    auth: 'admin',
    database: true,
    rateLimit: limits.inventoryUpdate,
    summary: 'Store 1–1000 inventory records, all or none',
    description:
      'One statement: either every item is stored or none is; committed before the 201. ' +
      'Timestamps without an offset are UTC. Send an `Idempotency-Key` to make a retry safe: ' +
      'the batch is stored once, and a retry gets the first answer again.',
    tag: 'inventory',
    idempotency: true,
    request: { body: InventoryUpdateBody },
    responses: { 201: null },
  }),
  inventoryQuery: defineRoute({
    method: 'GET',
    path: '/api/v1/inventory/query',
    function: 'inventory/query',
    apiKeyScope: 'inventory:read',
    auth: 'user',
    database: true,
    rateLimit: limits.inventoryQuery,
    summary: "A product's records in a time range, oldest first",
    description:
      'Bounds are inclusive; ordered by timestamp then id (stable when timestamps tie); ' +
      '`count` is the number of items on this page.',
    tag: 'inventory',
    request: { query: InventoryQuery },
    responses: { 200: InventoryPage },
  }),
} satisfies Record<string, RouteDefinition>;
