import type { MiddlewareObj, Request } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import {
  type BudgetsDecision,
  rateLimitHeaders,
  rateLimitsDisabled,
  takeBudgets,
} from '../cache/rate-limiter.js';
import { RateLimited } from '../errors.js';
import { type RateLimitPolicy, rateLimitPolicies } from '../rate-limits.js';

type IpLimitRequest = Request<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context
>;

/**
 * The caller's IP for limits: API Gateway's `requestContext.http.sourceIp` (the TCP peer
 * API Gateway saw), never a header such as `X-Forwarded-For` that the client writes itself
 * (API.md § Conventions). `unknown` when an event has none (a hand-made local event).
 */
export function sourceIpOf(event: APIGatewayProxyEventV2): string {
  return event.requestContext?.http?.sourceIp || 'unknown';
}

const refused = new WeakSet<Error>();

/**
 * Marks `error` (a 401 from authentication for a credential that was presented) as a
 * refused credential, so the per-IP limit counts it; returns it to be thrown.
 */
export function refusedCredential<E extends Error>(error: E): E {
  refused.add(error);
  return error;
}

export interface IpLimitOptions {
  /** Skip both budgets (the route table's health probes, whose `rateLimit` is null). */
  exempt?: boolean;
  /** The two budgets; default `ipRequests` and `ipRefusedCredentials` of `rate-limits.ts`. */
  policies?: { requests: RateLimitPolicy; refusedCredentials: RateLimitPolicy };
}

function limited(decision: BudgetsDecision): RateLimited {
  const denied = decision.denied as NonNullable<BudgetsDecision['denied']>;
  return new RateLimited(
    denied.decision.resetSeconds,
    rateLimitHeaders(denied.policy, denied.decision),
  );
}

/**
 * The per-IP limit of DESIGN.md § Request path, a middy middleware that runs before any
 * token work. Each source IP has two sliding-window budgets (API.md § Conventions): all its
 * requests (1,200/min) and its refused credentials (60/min). `before` takes a request token
 * and requires a refused-credential token to be left, in one Redis round trip; `onError`
 * takes a refused-credential token when authentication refused a credential (an error
 * marked by `refusedCredential`), and when none is left the 401 becomes the 429, so under
 * any concurrency at most 60 refusals per minute are answered 401. A spent budget answers
 * 429 (`RateLimited`, with `Retry-After` and the budget's `RateLimit-*` headers). Both fail
 * open when Redis is unavailable (reasons in `rate-limits.ts`). Off with `RATE_LIMITS=off`.
 */
export function ipLimit(
  options: IpLimitOptions = {},
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  const { requests, refusedCredentials } = options.policies ?? {
    requests: rateLimitPolicies.ipRequests,
    refusedCredentials: rateLimitPolicies.ipRefusedCredentials,
  };
  const active = () => !options.exempt && !rateLimitsDisabled();
  return {
    before: async (request: IpLimitRequest) => {
      if (!active()) return;
      const decision = await takeBudgets(`ip:${sourceIpOf(request.event)}`, [
        { policy: requests, cost: 1 },
        { policy: refusedCredentials, cost: 0 },
      ]);
      if (decision !== 'unavailable' && !decision.allowed) throw limited(decision);
    },
    onError: async (request: IpLimitRequest) => {
      if (!request.error || !refused.has(request.error) || !active()) return;
      const decision = await takeBudgets(`ip:${sourceIpOf(request.event)}`, [
        { policy: refusedCredentials, cost: 1 },
      ]);
      if (decision !== 'unavailable' && !decision.allowed) request.error = limited(decision);
    },
  };
}
