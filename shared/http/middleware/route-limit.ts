import {
  consumeRateLimit,
  rateLimitHeaders,
  rateLimitsDisabled,
} from '../../cache/rate-limiter.js';
import { RateLimited, ServiceUnavailable } from '../../errors.js';
import { countMetric, MetricName } from '../../observability.js';
import type { RateLimitPolicy } from '../../rate-limits.js';
import { addCheck, redisBatchOf } from './checks.js';
import { sourceIpOf } from './ip-limit.js';
import type { Middleware } from './types.js';

/**
 * Enforces the route's own rate-limit policy (`route.rateLimit`): queues, in the request's
 * Redis batch, a take of one request from the caller's budget (the verified user for
 * `identity: 'user'` policies, or the API key when one authenticated the request, else the source IP), so it runs after authentication and
 * travels in the same round trip as the per-IP limit and the deny list. Its check adds the
 * `RateLimit-*` headers to the response and throws `RateLimited` (429 with `Retry-After`)
 * when the budget is spent. When Redis is unavailable the policy's fail mode decides: `open`
 * lets the request through, `closed` answers 503.
 */
export function routeLimit(policy: RateLimitPolicy): Middleware {
  return {
    before: (request) => {
      if (rateLimitsDisabled()) return;
      const state = request.context.requestState;
      // A key has its own budget (API.md § API keys), not its owner's.
      const principal = state.principal;
      const identity =
        policy.identity === 'user' && principal
          ? principal.apiKey
            ? `key:${principal.apiKey.id}`
            : `user:${principal.userId}`
          : `ip:${sourceIpOf(request.event)}`;
      const decision = consumeRateLimit(policy, identity, redisBatchOf(state));
      addCheck(
        state,
        decision.then((outcome) => {
          if (outcome === 'unavailable') {
            if (policy.failMode === 'closed') {
              throw new ServiceUnavailable('This route is briefly unavailable. Try again shortly.');
            }
            return;
          }
          state.responseHeaders = rateLimitHeaders(policy, outcome);
          if (!outcome.allowed) {
            countMetric(MetricName.rateLimited);
            throw new RateLimited(outcome.resetSeconds);
          }
        }),
      );
    },
  };
}
