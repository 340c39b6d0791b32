import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  type BudgetsDecision,
  rateLimitHeaders,
  rateLimitsDisabled,
  takeBudgets,
} from '../../cache/rate-limiter.js';
import { RateLimited } from '../../errors.js';
import { countMetric, MetricName } from '../../observability.js';
import { type RateLimitPolicy, rateLimitPolicies } from '../../rate-limits.js';
import { addCheck, redisBatchOf, settleChecks } from './checks.js';
import type { Middleware } from './types.js';

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
  /** The two budgets; default `ipRequests` and `ipRefusedCredentials` of `rate-limits.ts`. */
  policies?: { requests: RateLimitPolicy; refusedCredentials: RateLimitPolicy };
}

function limited(decision: BudgetsDecision | 'unavailable'): RateLimited | undefined {
  if (decision === 'unavailable' || decision.allowed) return undefined;
  const denied = decision.denied as NonNullable<BudgetsDecision['denied']>;
  countMetric(MetricName.rateLimited);
  return new RateLimited(
    denied.decision.resetSeconds,
    rateLimitHeaders(denied.policy, denied.decision),
  );
}

/**
 * The per-IP limit of DESIGN.md § Request path, the first check of every route but the
 * health probes. Each source IP has two sliding-window budgets (API.md § Conventions): all
 * its requests (1,200/min) and its refused credentials (60/min). `before` queues, in the
 * request's Redis batch (sent with the deny list and the route limit as one round trip), a
 * take of a request token that also requires a refused-credential token to be left; its
 * answer is the request's first check, so a spent IP budget answers 429 before any other
 * verdict counts. `onError` takes a refused-credential token when authentication refused a
 * credential (an error marked by `refusedCredential`), and when none is left the 401
 * becomes the 429, so under any concurrency at most 60 refusals per minute are answered
 * 401. Refusals (429) carry `Retry-After` and the budget's `RateLimit-*` headers. Both budgets
 * fail open when Redis is unavailable (reasons in `rate-limits.ts`). Off with
 * `RATE_LIMITS=off` on the local stage.
 */
export function ipLimit(options: IpLimitOptions = {}): Middleware {
  const { requests, refusedCredentials } = options.policies ?? {
    requests: rateLimitPolicies.ipRequests,
    refusedCredentials: rateLimitPolicies.ipRefusedCredentials,
  };
  return {
    before: (request) => {
      if (rateLimitsDisabled()) return;
      const state = request.context.requestState;
      const decision = takeBudgets(
        `ip:${sourceIpOf(request.event)}`,
        [
          { policy: requests, cost: 1 },
          { policy: refusedCredentials, cost: 0 },
        ],
        Date.now(),
        redisBatchOf(state),
      );
      addCheck(
        state,
        decision.then((outcome) => {
          const error = limited(outcome);
          if (error) throw error;
        }),
      );
    },
    onError: async (request) => {
      if (rateLimitsDisabled()) return;
      const state = request.context.requestState;
      if (!state) return;
      // The request's own checks first: an IP over its request budget gets that 429.
      try {
        await settleChecks(state);
      } catch (refusal) {
        if (refusal instanceof RateLimited) {
          request.error = refusal;
          return;
        }
      }
      if (!request.error || !refused.has(request.error)) return;
      const decision = await takeBudgets(`ip:${sourceIpOf(request.event)}`, [
        { policy: refusedCredentials, cost: 1 },
      ]);
      request.error = limited(decision) ?? request.error;
    },
  };
}
