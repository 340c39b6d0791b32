/**
 * What the middleware tests share: API Gateway v2 events, a middy stack of the middlewares
 * under test with a Lambda context, fresh budgets (IPs, policy names) so runs never share
 * Redis state, and promises settled by the test.
 */
import { randomUUID } from 'node:crypto';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { lambdaContext } from '../../../infra/local/lambda.js';
import type { RedisBatch } from '../../../shared/cache/redis-batch.js';
import { ipLimit } from '../../../shared/http/middleware/ip-limit.js';
import { problemDetails } from '../../../shared/http/middleware/problem-details.js';
import { requestContext } from '../../../shared/http/middleware/request-context.js';
import type {
  HttpEvent,
  HttpResult,
  Middleware,
  RequestState,
  StackContext,
} from '../../../shared/http/middleware/types.js';
import { getMetrics } from '../../../shared/observability.js';
import type { RateLimitPolicy } from '../../../shared/rate-limits.js';
import { freshIp } from '../../helpers/ip.js';

export { freshIp };

/** How many runs a property makes: `FUZZ_RUNS` when set, else `fallback` (kept small). */
export function fuzzRuns(fallback: number): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(runs) && runs > 0 ? runs : fallback;
}

export interface EventParts {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  sourceIp?: string;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
}

/** An API Gateway HTTP API (payload v2) event, as the local gateway builds one. */
export function httpEvent(parts: EventParts = {}): HttpEvent {
  const method = parts.method ?? 'GET';
  const path = parts.path ?? '/t';
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: parts.headers ?? {},
    ...(parts.pathParameters ? { pathParameters: parts.pathParameters } : {}),
    ...(parts.queryStringParameters ? { queryStringParameters: parts.queryStringParameters } : {}),
    isBase64Encoded: parts.isBase64Encoded ?? false,
    ...(parts.body === undefined ? {} : { body: parts.body }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: parts.sourceIp ?? freshIp(),
        userAgent: '',
      },
      requestId: randomUUID(),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  } as HttpEvent;
}

/**
 * Powertools' `logMetrics`, which `createHandler` puts before `requestContext`: it publishes
 * (and clears) the metrics `requestContext` records for each request.
 */
export function publishMetrics(metrics = getMetrics()): Middleware {
  return logMetrics(metrics) as unknown as Middleware;
}

export type StackHandler = (event: HttpEvent, context: StackContext) => Promise<HttpResult>;

/**
 * A middy stack of `parts` (in the order given) around `handler` (default: 200 `ok`),
 * called like the Lambda runtime calls a handler, with a fresh Lambda context per call.
 */
export function stack(
  parts: Middleware[],
  handler: StackHandler = async () => ({ statusCode: 200, body: 'ok' }),
): (event: HttpEvent) => Promise<HttpResult> {
  const composed = middy<HttpEvent, HttpResult, Error, StackContext>();
  for (const part of parts) composed.use(part);
  const lambda = composed.handler(handler);
  return (event) => lambda(event, lambdaContext('test') as StackContext) as Promise<HttpResult>;
}

/**
 * A request state as `requestContext` creates it; with `redis`, that batch is the request's
 * (else `redisBatchOf` creates one on first use, as in the stack).
 */
export function requestState(redis?: RedisBatch): RequestState {
  return {
    requestId: randomUUID(),
    startedAt: performance.now(),
    ...(redis ? { redis } : {}),
    checks: [],
  };
}

/** A middleware that puts `state()` on the context, in place of `requestContext`. */
export function withState(state: () => RequestState): Middleware {
  return {
    before: (request) => {
      request.context.requestState = state();
    },
  };
}

/** A sliding-window policy of `limit` per minute whose name no other run uses. */
export function freshPolicy(
  limit: number,
  options: Partial<Pick<RateLimitPolicy, 'identity' | 'failMode'>> = {},
): RateLimitPolicy {
  return {
    name: `test-${randomUUID()}`,
    limit,
    windowSeconds: 60,
    algorithm: 'sliding-window',
    identity: options.identity ?? 'ip',
    failMode: options.failMode ?? 'open',
  };
}

/** The parsed problem+json body of a response. */
export function problemOf(result: HttpResult): Record<string, unknown> {
  return JSON.parse(String(result.body)) as Record<string, unknown>;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** A promise the test settles. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * What `createHandler` puts before authentication, for `route` (`"GET /t"`): metrics
 * publishing, the request context, problem details and the per-IP limit with fresh budgets of
 * `requests` requests and `refused` refused credentials per window (1,000 each unless given).
 */
export function stackFront(
  route: string,
  budgets: { requests?: number; refused?: number } = {},
): Middleware[] {
  return [
    publishMetrics(),
    requestContext(route),
    problemDetails(),
    ipLimit({
      policies: {
        requests: freshPolicy(budgets.requests ?? 1000),
        refusedCredentials: freshPolicy(budgets.refused ?? 1000),
      },
    }),
  ];
}
