import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpSecurityHeaders from '@middy/http-security-headers';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { z } from 'zod';
import { isAccessTokenRevoked } from '../auth/revocation.js';
import { type Principal, verifyAccessToken } from '../auth/tokens.js';
import { consumeRateLimit, rateLimitHeaders, rateLimitsDisabled } from '../cache/rate-limiter.js';
import {
  type FieldError,
  Forbidden,
  RateLimited,
  ServiceUnavailable,
  Unauthenticated,
  ValidationFailed,
} from '../errors.js';
import { logger } from '../logger.js';
import { decodeBody } from './body.js';
import { requestDeadline } from './deadline.js';
import { ipLimit, refusedCredential, sourceIpOf } from './ip-limit.js';
import { errorToProblem } from './problem.js';
import type { RouteDefinition } from './route.js';
import { declaredFields, validate } from './validation.js';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;
type Req<R extends RouteDefinition> = NonNullable<R['request']>;

/** What a handler receives: validated input, the caller, and request metadata. */
export interface RequestInput<R extends RouteDefinition> {
  path: Out<Req<R>['path']>;
  query: Out<Req<R>['query']>;
  body: Req<R>['form'] extends z.ZodType
    ? Out<Req<R>['body']> | Out<Req<R>['form']>
    : Out<Req<R>['body']>;
  /** The verified caller; always set on `user` and `admin` routes. */
  principal: R['auth'] extends 'public' ? Principal | undefined : Principal;
  requestId: string;
  /** The client's IP as API Gateway saw it (`requestContext.http.sourceIp`). */
  sourceIp: string;
  /** Lower-cased request headers. */
  headers: Record<string, string | undefined>;
  event: HttpEvent;
}

/** What a handler returns: a status declared in the route's `responses`, a body, headers. */
// biome-ignore lint/correctness/noUnusedVariables: R documents which route the reply is for.
export interface Reply<R extends RouteDefinition> {
  /** One of `keyof R['responses']`; checked by the contract tests, not the compiler. */
  status: number;
  /** JSON-serialised unless a `Content-Type` header is given and the body is a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Per-invocation state the middlewares fill in for the handler. */
interface RequestState {
  requestId: string;
  startedAt: number;
  principal?: Principal;
  input?: { path: unknown; query: unknown; body: unknown };
  /** Headers every response of this request carries (rate-limit state). */
  responseHeaders?: Record<string, string>;
}
type StatefulContext = Context & { requestState: RequestState };

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The request id: the client's `X-Request-ID` when it is 1–128 chars of `[A-Za-z0-9._-]`
 * (API.md § Conventions), else a new UUID.
 */
export function requestIdFrom(headers: Record<string, string | undefined> | undefined): string {
  const given = headers?.['x-request-id'] ?? headers?.['X-Request-ID'];
  return given && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

export interface HandlerOptions {
  /** Content-Security-Policy directives for HTML responses (docs pages). */
  contentSecurityPolicy?: Record<string, string>;
}

/**
 * Builds a Lambda handler for one route of the route table: the shared middleware stack of
 * DESIGN.md § Request path around `handle`. In order: request id and log context, header
 * normalisation, the per-IP limit (`./ip-limit.ts`: before any token work, on every route
 * but the health probes, whose `rateLimit` is null), authentication (`route.auth`), rate
 * limiting (`route.rateLimit`; after authentication because most budgets belong to the
 * verified user), body decoding (1 MiB, content type), zod validation of path, query and
 * body, the handler, then security headers, `X-Request-ID`, and thrown errors mapped to
 * `application/problem+json`.
 * One log line per request.
 */
export function createHandler<R extends RouteDefinition>(
  route: R,
  handle: (input: RequestInput<R>) => Promise<Reply<R>>,
  options: HandlerOptions = {},
): HttpHandler {
  const stack = middy<HttpEvent, HttpResult, Error, StatefulContext>()
    .use(requestContext(route))
    .use(requestDeadline())
    .use(
      httpSecurityHeaders(
        options.contentSecurityPolicy
          ? { contentSecurityPolicy: options.contentSecurityPolicy }
          : {},
      ) as MiddlewareObj<HttpEvent, HttpResult, Error, StatefulContext>,
    )
    .use(problemDetails())
    .use(httpHeaderNormalizer() as MiddlewareObj<HttpEvent, HttpResult, Error, StatefulContext>)
    .use(ipLimit({ exempt: route.rateLimit === null }) as Middleware)
    .use(authentication(route))
    .use(rateLimiting(route))
    .use(requestParsing(route))
    .handler(async (event, context) => {
      const state = context.requestState;
      const input = state.input ?? { path: undefined, query: undefined, body: undefined };
      const reply = await handle({
        ...(input as Pick<RequestInput<R>, 'path' | 'query' | 'body'>),
        principal: state.principal as RequestInput<R>['principal'],
        requestId: state.requestId,
        sourceIp: sourceIpOf(event),
        headers: event.headers ?? {},
        event,
      });
      return toResult(reply);
    });
  return stack as unknown as HttpHandler;
}

function toResult(reply: {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}): HttpResult {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...reply.headers };
  if (reply.body === undefined) return { statusCode: reply.status, headers };
  if (typeof reply.body === 'string' && headers['Content-Type']) {
    return { statusCode: reply.status, headers, body: reply.body };
  }
  headers['Content-Type'] = 'application/json';
  return { statusCode: reply.status, headers, body: JSON.stringify(reply.body) };
}

type Middleware = MiddlewareObj<HttpEvent, HttpResult, Error, StatefulContext>;

/** Request id, logger context, `X-Request-ID` on every response, one log line per request. */
function requestContext(route: RouteDefinition): Middleware {
  const finish = (request: Request<HttpEvent, HttpResult, Error, StatefulContext>) => {
    const state = request.context.requestState;
    if (request.response) {
      request.response.headers = {
        ...state.responseHeaders,
        ...request.response.headers,
        'X-Request-ID': state.requestId,
      };
    }
    logger.info('request', {
      method: request.event.requestContext?.http?.method ?? route.method,
      path: request.event.rawPath,
      route: `${route.method} ${route.path}`,
      status: request.response?.statusCode,
      duration_ms: Math.round((performance.now() - state.startedAt) * 100) / 100,
    });
    logger.removeKeys(['request_id']);
  };
  return {
    before: (request) => {
      const requestId = requestIdFrom(request.event.headers);
      request.context.requestState = { requestId, startedAt: performance.now() };
      logger.addContext(request.context);
      logger.appendKeys({ request_id: requestId });
    },
    after: finish,
    onError: finish,
  };
}

/** Maps a thrown error to a problem+json response (runs first among the error handlers). */
function problemDetails(): Middleware {
  return {
    onError: (request) => {
      const requestId =
        request.context.requestState?.requestId ?? requestIdFrom(request.event.headers);
      request.response = errorToProblem(request.error, {
        requestId,
        instance: request.event.rawPath ?? '/',
      });
    },
  };
}

const BEARER_PATTERN = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Authenticates `user` and `admin` routes with an RFC 6750 bearer token (rejecting `jti`s on
 * the logout deny list) and authorises `admin` routes by the token's `role`. A presented
 * credential that is refused (malformed header, invalid, expired or revoked token) is marked
 * for the per-IP limit (`refusedCredential`); a missing one is not.
 * Errors: `Unauthenticated` (401 with `WWW-Authenticate: Bearer`), `Forbidden` (403).
 */
function authentication(route: RouteDefinition): Middleware {
  return {
    before: async (request) => {
      if (route.auth === 'public') return;
      const header = request.event.headers?.authorization;
      if (!header) {
        throw new Unauthenticated('Send an access token: Authorization: Bearer <token>.', 'Bearer');
      }
      const principal = await verifyBearer(header).catch((error: unknown) => {
        throw error instanceof Unauthenticated ? refusedCredential(error) : error;
      });
      if (route.auth === 'admin' && principal.role !== 'admin') {
        throw new Forbidden('This route is for admins.');
      }
      request.context.requestState.principal = principal;
    },
  };
}

/** The principal of an `Authorization: Bearer <token>` header. Errors: `Unauthenticated`. */
async function verifyBearer(header: string): Promise<Principal> {
  const match = BEARER_PATTERN.exec(header);
  if (!match?.[1]) {
    throw new Unauthenticated(
      'The Authorization header must be "Bearer <token>".',
      'Bearer error="invalid_request"',
    );
  }
  const principal = await verifyAccessToken(match[1]);
  if (await isAccessTokenRevoked(principal.tokenId)) {
    throw new Unauthenticated('The access token has been revoked.', 'Bearer error="invalid_token"');
  }
  return principal;
}

/**
 * Enforces `route.rateLimit`: spends one request of the caller's budget (the user, else the
 * source IP), adds `RateLimit-*` headers to the response, and throws `RateLimited` (429 with
 * `Retry-After`) when it is spent. When Redis is unavailable the policy's fail mode decides:
 * `open` lets the request through, `closed` answers 503.
 */
function rateLimiting(route: RouteDefinition): Middleware {
  const policy = route.rateLimit;
  return {
    before: async (request) => {
      if (!policy || rateLimitsDisabled()) return;
      const state = request.context.requestState;
      const identity =
        policy.identity === 'user' && state.principal
          ? `user:${state.principal.userId}`
          : `ip:${sourceIpOf(request.event)}`;
      const decision = await consumeRateLimit(policy, identity);
      if (decision === 'unavailable') {
        if (policy.failMode === 'closed') {
          throw new ServiceUnavailable('This route is briefly unavailable. Try again shortly.');
        }
        return;
      }
      state.responseHeaders = rateLimitHeaders(policy, decision);
      if (!decision.allowed) throw new RateLimited(decision.resetSeconds);
    },
  };
}

/**
 * Decodes the body and validates path, the query parameters and headers the route reads
 * (`request.query`, `request.headers` with lower-case names; others are ignored) and body
 * with the route's zod schemas; `validate` also refuses U+0000 in any of them.
 * Errors: `ValidationFailed` (422) with every field error at once.
 */
function requestParsing(route: RouteDefinition): Middleware {
  const schemas = route.request ?? {};
  const accepts = { json: Boolean(schemas.body), form: Boolean(schemas.form) };
  return {
    before: (request) => {
      const { event } = request;
      const errors: FieldError[] = [];
      const input: RequestState['input'] = { path: undefined, query: undefined, body: undefined };
      if (schemas.path) {
        const result = validate(schemas.path, event.pathParameters ?? {}, 'path');
        if (result.ok) input.path = result.data;
        else errors.push(...result.errors);
      }
      if (schemas.query) {
        const read = declaredFields(schemas.query, event.queryStringParameters ?? {});
        const result = validate(schemas.query, read, 'query');
        if (result.ok) input.query = result.data;
        else errors.push(...result.errors);
      }
      if (schemas.headers) {
        const read = declaredFields(schemas.headers, event.headers ?? {});
        const result = validate(schemas.headers, read, 'header');
        if (!result.ok) errors.push(...result.errors);
      }
      if (schemas.body || schemas.form) {
        const contentType = event.headers?.['content-type'];
        const decoded = decodeBody(event.body, event.isBase64Encoded, contentType, accepts);
        const schema = (decoded.form ? schemas.form : schemas.body) ?? schemas.form;
        const result = validate(schema as z.ZodType, decoded.value, 'body');
        if (result.ok) input.body = result.data;
        else errors.push(...result.errors);
      }
      if (errors.length) throw new ValidationFailed(errors);
      request.context.requestState.input = input;
    },
  };
}
