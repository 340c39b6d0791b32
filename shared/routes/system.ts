/**
 * The route of what no other route matches. Not an entry of `routes` (API Gateway has no
 * path for it): CDK wires it as the HTTP API's `$default` route and the local gateway calls
 * it the same way; `./index.ts` re-exports it.
 */
import { defineRoute } from '../http/route.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';

/** Unknown path: 404; known path with another method: 405 with `Allow`. */
export const fallbackRoute = defineRoute({
  method: 'GET',
  path: '/{proxy+}',
  function: 'system/fallback',
  auth: 'public',
  database: false,
  rateLimit: limits.public,
  summary: 'Unknown path (404) or wrong method on a known path (405 with Allow)',
  tag: 'operations',
  hidden: true,
  responses: {},
});
