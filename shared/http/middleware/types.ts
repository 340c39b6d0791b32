import type { MiddlewareObj, Request } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { Principal } from '../../auth/tokens.js';
import type { RedisBatch } from '../../cache/redis-batch.js';
import type { TransactionHooks } from '../../db/transaction-hooks.js';
import type { ReplyLike } from '../reply.js';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** A check whose answer may arrive after the handler ran (the Redis round trip). */
export type PendingCheck = Promise<void>;

/**
 * Per-invocation state the middlewares fill in for each other and for the handler, on
 * `context.requestState` (created by `requestContext`, the first middleware after `logMetrics`).
 */
export interface RequestState {
  requestId: string;
  /** `performance.now()` when the request started, ms. */
  startedAt: number;
  /** The verified caller (`authentication`). */
  principal?: Principal;
  /** The decoded body (`body`), before validation. */
  body?: unknown;
  /** Whether the body came as `application/x-www-form-urlencoded`. */
  form?: boolean;
  /** Validated path, query and body (`validation`). */
  input?: { path: unknown; query: unknown; body: unknown };
  /** The versions `If-Match` accepts, or null for none/`*` (`conditionalRequest`). */
  ifMatch?: number[] | null;
  /** The request's `Idempotency-Key` and what to do with it (`idempotency`), when it has one. */
  idempotency?: IdempotencyState;
  /** Headers every response of this request carries (rate-limit state). */
  responseHeaders?: Record<string, string>;
  /**
   * The stack's Redis commands of this request, sent in one round trip (`redisRoundTrip`);
   * created by the first middleware that queues one (`redisBatchOf`).
   */
  redis?: RedisBatch;
  /** Checks that throw when the Redis answers refuse the request, in the order they apply. */
  checks: PendingCheck[];
}

/**
 * A request that carries a valid `Idempotency-Key` on an idempotent route (set by
 * `middleware/idempotency.ts`; API.md § Idempotency keys).
 */
export interface IdempotencyState {
  /** What the handler receives as `input.idempotency` (typed there by the route's replies). */
  input: {
    key: string;
    hooks(render: (result: unknown) => ReplyLike): TransactionHooks<unknown>;
  };
  /**
   * Runs the handler's call under the key: answers a stored response instead when the key
   * already has one, or the record a request with the key committed meanwhile. (A
   * business-rule 409/422 is recorded by the hooks, in the write's transaction.)
   */
  run(call: () => Promise<HttpResult>): Promise<HttpResult>;
}

export type StackContext = Context & { requestState: RequestState };
export type StackRequest = Request<HttpEvent, HttpResult, Error, StackContext>;
/** A middy middleware of the HTTP stack. */
export type Middleware = MiddlewareObj<HttpEvent, HttpResult, Error, StackContext>;
