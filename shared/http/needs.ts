import type { RouteDefinition } from './route.js';

/** The optional middlewares of the stack (DESIGN.md § Request path), by module name. */
export interface StackNeeds {
  /** `middleware/deadline.ts`: routes whose function queries PostgreSQL (`database`). */
  databaseDeadline: boolean;
  /** `middleware/ip-limit.ts`: every route with a rate-limit policy (not the health probes). */
  ipLimit: boolean;
  /** `middleware/authentication.ts`: `user` and `admin` routes. */
  authentication: boolean;
  /** `middleware/api-key.ts` (and the key lookup): routes that declare an `apiKeyScope`. */
  apiKey: boolean;
  /** `middleware/route-limit.ts`: every route with a rate-limit policy. */
  routeLimit: boolean;
  /** `middleware/redis-round-trip.ts`: routes with a limit or authentication (Redis work). */
  redisRoundTrip: boolean;
  /** `middleware/body.ts`: routes with a JSON or form body schema. */
  body: boolean;
  /** `middleware/validation.ts`: routes with any request schema. */
  validation: boolean;
  /** `middleware/conditional-request.ts`: routes that declare the `If-Match` header. */
  conditionalRequest: boolean;
  /** `middleware/idempotency.ts`: routes that declare `idempotency: true`. */
  idempotency: boolean;
}

/**
 * Which middlewares a route's entry needs. `createHandler` composes only these, and the
 * bundler is told the same answers as constants (`stackDefines`), so a function's bundle
 * holds only the middleware modules (and their libraries: jose, the body parsers) it runs.
 */
export function stackNeeds(route: RouteDefinition): StackNeeds {
  const request = route.request ?? {};
  const headers = request.headers as { shape?: Record<string, unknown> } | undefined;
  const limited = route.rateLimit !== null;
  const authentication = route.auth !== 'public';
  return {
    databaseDeadline: route.database,
    ipLimit: limited,
    authentication,
    apiKey: authentication && route.apiKeyScope !== undefined,
    routeLimit: limited,
    redisRoundTrip: limited || authentication,
    body: Boolean(request.body || request.form),
    validation: Boolean(
      request.path || request.query || request.headers || request.body || request.form,
    ),
    conditionalRequest: Boolean(headers?.shape && 'if-match' in headers.shape),
    idempotency: route.idempotency === true,
  };
}

/** The global each need is given to esbuild as (`define`), e.g. `STACK_NEEDS_BODY`. */
export const STACK_DEFINE_NAMES: Record<keyof StackNeeds, string> = {
  databaseDeadline: 'STACK_NEEDS_DATABASE_DEADLINE',
  ipLimit: 'STACK_NEEDS_IP_LIMIT',
  authentication: 'STACK_NEEDS_AUTHENTICATION',
  apiKey: 'STACK_NEEDS_API_KEY',
  routeLimit: 'STACK_NEEDS_ROUTE_LIMIT',
  redisRoundTrip: 'STACK_NEEDS_REDIS_ROUND_TRIP',
  body: 'STACK_NEEDS_BODY',
  validation: 'STACK_NEEDS_VALIDATION',
  conditionalRequest: 'STACK_NEEDS_CONDITIONAL_REQUEST',
  idempotency: 'STACK_NEEDS_IDEMPOTENCY',
};

/**
 * esbuild `define` entries for the function of `route`: each need as `"true"`/`"false"`,
 * which lets esbuild drop the branches (and then the modules) the route does not use.
 */
export function stackDefines(route: RouteDefinition): Record<string, string> {
  const needs = stackNeeds(route);
  return Object.fromEntries(
    (Object.keys(STACK_DEFINE_NAMES) as (keyof StackNeeds)[]).map((need) => [
      STACK_DEFINE_NAMES[need],
      String(needs[need]),
    ]),
  );
}
