/**
 * THE route table (DESIGN.md § One route table): every HTTP route, once. CDK makes one
 * Lambda and one API Gateway route per entry, the local gateway routes by it, `/openapi.json`
 * is generated from it and the tests iterate it. It imports schemas, never handlers.
 *
 * One module per domain (`./<domain>.ts`), gathered here. A function imports its own domain's
 * module, never this one, so its bundle holds only its own schemas; only what needs every
 * route (CDK, the local gateway, the OpenAPI document, the fallback's 405, the tests) imports
 * this module.
 *
 * To add an endpoint: one entry in `./<domain>.ts` (a new domain: a new module, spread into
 * `routes` below), one file under `functions/<domain>/`, one service call.
 */
import { compilePath, type HttpMethod, type RouteDefinition } from '../http/route.js';
import { adminRoutes } from './admin.js';
import { authRoutes } from './auth.js';
import { customersRoutes } from './customers.js';
import { docsRoutes } from './docs.js';
import { healthRoutes } from './health.js';
import { inventoryRoutes } from './inventory.js';
import { jobsRoutes } from './jobs.js';
import { keysRoutes } from './keys.js';
import { notesRoutes } from './notes.js';
import { ordersRoutes } from './orders.js';
import { productsRoutes } from './products.js';
import { usersRoutes } from './users.js';

export { fallbackRoute } from './system.js';

/** Every route by name; the domain modules' entries, unchanged and in this order. */
export const routes = {
  ...healthRoutes,
  ...docsRoutes,
  ...authRoutes,
  ...usersRoutes,
  ...notesRoutes,
  ...inventoryRoutes,
  ...productsRoutes,
  ...customersRoutes,
  ...ordersRoutes,
  ...adminRoutes,
  ...keysRoutes,
  ...jobsRoutes,
} satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof routes;

/** Every route, as a list. */
export const routeList: RouteDefinition[] = Object.values(routes);

const matchers = routeList.map((route) => ({ route, match: compilePath(route.path) }));

/**
 * Resolves a request to a route: `{route, params}` when method and path match,
 * `{allow}` when only the path matches (405), or null (404). `HEAD` resolves to the `GET`
 * route of the path (API.md: every GET answers HEAD; RFC 9110 §9.3.2). `path` is the raw,
 * still percent-encoded path, matched as API Gateway does: no dot-segment resolution, no
 * decoding before matching (so `%2F` stays inside one segment); parameters come out decoded.
 */
export function resolveRoute(
  method: string,
  path: string,
): { route: RouteDefinition; params: Record<string, string> } | { allow: HttpMethod[] } | null {
  const wanted = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const allow: HttpMethod[] = [];
  for (const { route, match } of matchers) {
    const params = match(path);
    if (!params) continue;
    if (route.method === wanted) return { route, params };
    allow.push(route.method);
  }
  return allow.length ? { allow } : null;
}
