import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { Context } from 'aws-lambda';
import type * as core from 'zod/v4/core';
import type { Principal } from '../auth/tokens.js';
import type { TransactionHooks } from '../db/transaction-hooks.js';
import { getMetrics } from '../observability.js';
import { useEnglishMessages } from '../zod-english.js';
import { apiKeyAuthentication } from './middleware/api-key.js';
import { authentication } from './middleware/authentication.js';
import { body } from './middleware/body.js';
import { conditionalRequest } from './middleware/conditional-request.js';
import { requestDeadline } from './middleware/deadline.js';
import { idempotency } from './middleware/idempotency.js';
import { ipLimit, sourceIpOf } from './middleware/ip-limit.js';
import { problemDetails } from './middleware/problem-details.js';
import { redisRoundTrip } from './middleware/redis-round-trip.js';
import { requestContext } from './middleware/request-context.js';
import { routeLimit } from './middleware/route-limit.js';
import { tracing } from './middleware/tracing.js';
import type { HttpEvent, HttpResult, Middleware, StackContext } from './middleware/types.js';
import { validation } from './middleware/validation.js';
import { stackNeeds } from './needs.js';
import { toResult } from './reply.js';
import { keyScopesOf, type RawResponse, type RouteDefinition } from './route.js';

// zod's messages in English, as classic zod gave them: in field errors and in logs.
useEnglishMessages();

export { requestIdFrom } from './middleware/request-context.js';
export type { HttpEvent, HttpResult } from './middleware/types.js';
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

type Out<T> = T extends core.$ZodType ? core.output<T> : undefined;
type Req<R extends RouteDefinition> = NonNullable<R['request']>;

/** What a handler receives: validated input, the caller, and request metadata. */
export interface RequestInput<R extends RouteDefinition> {
  path: Out<Req<R>['path']>;
  query: Out<Req<R>['query']>;
  body: Req<R>['form'] extends core.$ZodType
    ? Out<Req<R>['body']> | Out<Req<R>['form']>
    : Out<Req<R>['body']>;
  /** The verified caller; always set on `user` and `admin` routes. */
  principal: R['auth'] extends 'public' ? Principal | undefined : Principal;
  /** The versions `If-Match` accepts (null: absent or `*`), on routes that declare it. */
  ifMatch: number[] | null;
  /**
   * On a route with `idempotency: true`, when the request carries a valid `Idempotency-Key`
   * that has no record yet: the hooks to pass to the service's write transaction. Else
   * undefined (no key, or not an idempotent route).
   */
  idempotency: R['idempotency'] extends true ? IdempotencyInput<R> | undefined : undefined;
  requestId: string;
  /** The client's IP as API Gateway saw it (`requestContext.http.sourceIp`). */
  sourceIp: string;
  event: HttpEvent;
}

/**
 * An idempotency key for the handler of an idempotent route (API.md § Idempotency keys;
 * `middleware/idempotency.ts`).
 */
export interface IdempotencyInput<R extends RouteDefinition> {
  /** The `Idempotency-Key` as sent (1–255 printable ASCII characters). */
  key: string;
  /**
   * The hooks the handler passes to its service's write transaction (`TransactionHooks`, run
   * by `withTransactionHooks`). `begin` locks the key (another request with it in progress:
   * 409) and checks it has no record (one committed meanwhile: that answer, a replay or a 422);
   * `commit` stores `render(result)` as the response to replay, in the write's transaction.
   * `render` must build the reply the handler then returns for that result.
   */
  hooks<T>(render: (result: T) => Reply<R>): TransactionHooks<T>;
}

/** The body a declared response takes: the schema's input for JSON, text for raw media. */
type BodyOf<S> = S extends core.$ZodType
  ? core.input<S>
  : S extends { mediaType: string }
    ? string
    : never;

/**
 * What a handler returns: one of the statuses declared in the route's `responses` with the
 * body that status declares (a zod schema's input, serialised as JSON; a string for a raw
 * media type, sent as is with the `Content-Type` header given; none for `null`), checked by
 * the compiler, plus headers.
 */
export type Reply<R extends RouteDefinition> = {
  [S in keyof R['responses'] & number]: R['responses'][S] extends RawResponse
    ? R['responses'][S] extends null
      ? { status: S; body?: undefined; headers?: Record<string, string> }
      : { status: S; body: BodyOf<R['responses'][S]>; headers?: Record<string, string> }
    : { status: S; body: BodyOf<R['responses'][S]>; headers?: Record<string, string> };
}[keyof R['responses'] & number];

export interface HandlerOptions {
  /** Content-Security-Policy directives for HTML responses (docs pages). */
  contentSecurityPolicy?: Record<string, string>;
}

// Set by the bundler per function (`stackDefines` in `needs.ts`); undefined when run from
// source (tests, the local stack). A `false` drops the middleware (and its modules) from the
// bundle; otherwise the route entry decides at run time, so a function serving several
// routes (whose defines are their union) still gives each route only what it needs.
declare const STACK_NEEDS_DATABASE_DEADLINE: boolean | undefined;
declare const STACK_NEEDS_IP_LIMIT: boolean | undefined;
declare const STACK_NEEDS_AUTHENTICATION: boolean | undefined;
declare const STACK_NEEDS_API_KEY: boolean | undefined;
declare const STACK_NEEDS_ROUTE_LIMIT: boolean | undefined;
declare const STACK_NEEDS_REDIS_ROUND_TRIP: boolean | undefined;
declare const STACK_NEEDS_BODY: boolean | undefined;
declare const STACK_NEEDS_VALIDATION: boolean | undefined;
declare const STACK_NEEDS_CONDITIONAL_REQUEST: boolean | undefined;
declare const STACK_NEEDS_IDEMPOTENCY: boolean | undefined;

/** Safe methods change nothing (RFC 9110 §9.2.1): their Redis checks overlap the handler. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Builds the Lambda handler of one route-table entry: DESIGN.md § Request path, composed of
 * only the middlewares `stackNeeds(route)` names (each in `./middleware/`), in this order:
 * metrics (Powertools `logMetrics`: cold start, published last) → request context (id, logs,
 * the request's metrics) → tracing (sampled invocations) → database deadline (database
 * routes) → security headers → problem details → header normalisation → per-IP limit →
 * authentication (by API key or token on routes with an `apiKeyScope`) → route limit → the Redis round trip
 * (the three above share one; on GET it overlaps the handler) → body → validation →
 * idempotency keys (routes with `idempotency: true`) → conditional request → `handle`. The
 * reply becomes the response (JSON unless a raw media type; `Cache-Control: no-store` unless
 * given); thrown errors become problem+json. A keyed request on an idempotent route runs the
 * handler under its key (`IdempotencyState.run`): a recorded answer instead, or the call.
 * Errors: an idempotent route that is public, uses no database or is a GET (at build time).
 */
export function createHandler<R extends RouteDefinition>(
  route: R,
  // Distributed over R so that R is inferred from `route` alone and the reply's `status`
  // keeps its literal type (checked against the declared statuses).
  handle: R extends unknown ? (input: RequestInput<R>) => Promise<Reply<R>> : never,
  options: HandlerOptions = {},
): HttpHandler {
  const needs = stackNeeds(route);
  if (route.idempotency && (route.auth === 'public' || !route.database || route.method === 'GET')) {
    // Keys belong to a caller, live in PostgreSQL, and guard writes.
    throw new Error(
      `${route.method} ${route.path}: idempotency keys need an authenticated write route that uses the database`,
    );
  }
  const parts: Middleware[] = [
    // First, so that its `after`/`onError` (publish) run last, after `requestContext`'s.
    logMetrics(getMetrics(), { captureColdStartMetric: true }) as Middleware,
    requestContext(`${route.method} ${route.path}`),
    tracing(),
  ];
  if (
    (typeof STACK_NEEDS_DATABASE_DEADLINE !== 'boolean' || STACK_NEEDS_DATABASE_DEADLINE) &&
    needs.databaseDeadline
  ) {
    parts.push(requestDeadline() as Middleware);
  }
  parts.push(
    httpSecurityHeaders(
      options.contentSecurityPolicy ? { contentSecurityPolicy: options.contentSecurityPolicy } : {},
    ) as Middleware,
    problemDetails(),
    httpHeaderNormalizer() as Middleware,
  );
  const policy = route.rateLimit;
  if ((typeof STACK_NEEDS_IP_LIMIT !== 'boolean' || STACK_NEEDS_IP_LIMIT) && needs.ipLimit) {
    parts.push(ipLimit());
  }
  if (
    (typeof STACK_NEEDS_AUTHENTICATION !== 'boolean' || STACK_NEEDS_AUTHENTICATION) &&
    needs.authentication
  ) {
    const requirement = route.auth === 'admin' ? 'admin' : 'user';
    const tokens = authentication({ requirement });
    if (
      (typeof STACK_NEEDS_API_KEY !== 'boolean' || STACK_NEEDS_API_KEY) &&
      needs.apiKey &&
      route.apiKeyScope
    ) {
      parts.push(apiKeyAuthentication({ requirement, scopes: keyScopesOf(route), tokens }));
    } else {
      parts.push(tokens);
    }
  }
  if (
    (typeof STACK_NEEDS_ROUTE_LIMIT !== 'boolean' || STACK_NEEDS_ROUTE_LIMIT) &&
    needs.routeLimit
  ) {
    if (policy) parts.push(routeLimit(policy));
  }
  if (
    (typeof STACK_NEEDS_REDIS_ROUND_TRIP !== 'boolean' || STACK_NEEDS_REDIS_ROUND_TRIP) &&
    needs.redisRoundTrip
  ) {
    parts.push(redisRoundTrip({ concurrent: SAFE_METHODS.has(route.method) }));
  }
  if ((typeof STACK_NEEDS_BODY !== 'boolean' || STACK_NEEDS_BODY) && needs.body) {
    parts.push(body({ json: Boolean(route.request?.body), form: Boolean(route.request?.form) }));
  }
  if ((typeof STACK_NEEDS_VALIDATION !== 'boolean' || STACK_NEEDS_VALIDATION) && needs.validation) {
    parts.push(validation(route.request ?? {}));
  }
  if (
    (typeof STACK_NEEDS_IDEMPOTENCY !== 'boolean' || STACK_NEEDS_IDEMPOTENCY) &&
    needs.idempotency
  ) {
    parts.push(idempotency(`${route.method} ${route.path}`));
  }
  if (
    (typeof STACK_NEEDS_CONDITIONAL_REQUEST !== 'boolean' || STACK_NEEDS_CONDITIONAL_REQUEST) &&
    needs.conditionalRequest
  ) {
    parts.push(conditionalRequest());
  }
  const stack = middy<HttpEvent, HttpResult, Error, StackContext>();
  for (const part of parts) stack.use(part);
  return stack.handler(async (event, context) => {
    const state = context.requestState;
    const input = state.input ?? { path: undefined, query: undefined, body: undefined };
    const call = async () =>
      toResult(
        await (handle as (input: RequestInput<R>) => Promise<Reply<R>>)({
          path: input.path as RequestInput<R>['path'],
          query: input.query as RequestInput<R>['query'],
          body: input.body as RequestInput<R>['body'],
          principal: state.principal as RequestInput<R>['principal'],
          ifMatch: state.ifMatch ?? null,
          idempotency: state.idempotency?.input as RequestInput<R>['idempotency'],
          requestId: state.requestId,
          sourceIp: sourceIpOf(event),
          event,
        }),
      );
    // A keyed request runs under its key: a stored answer instead, or the call, recorded.
    return state.idempotency ? state.idempotency.run(call) : call();
  }) as unknown as HttpHandler;
}
