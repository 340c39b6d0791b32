import { settleChecks } from './checks.js';
import type { Middleware, StackRequest } from './types.js';

export interface RedisRoundTripOptions {
  /**
   * Let the handler run while Redis answers, and refuse the response afterwards if a check
   * fails. Only for safe methods (GET, HEAD: RFC 9110 §9.2.1), whose handlers change nothing.
   */
  concurrent: boolean;
}

/**
 * Sends the Redis commands the per-IP limit, the deny list and the route limit queued in
 * `before` as one pipeline (`RedisBatch`), so the stack's own Redis work is one round trip.
 * Put it after those three and before the body. Unsafe methods wait for the answer before
 * anything else runs; with `concurrent` the handler's query runs meanwhile and the response
 * waits for the answer in `after`. A refusal (429, 401 for a revoked token, 503 from a
 * fail-closed limit) replaces whatever the request produced, also an error: a client over
 * its budget gets 429 whether or not its input was valid.
 */
export function redisRoundTrip(options: RedisRoundTripOptions): Middleware {
  const sent = new WeakSet<StackRequest>();
  return {
    before: async (request) => {
      const state = request.context.requestState;
      sent.add(request);
      if (options.concurrent) void state.redis?.send();
      else await settleChecks(state);
    },
    after: async (request) => {
      if (options.concurrent) await settleChecks(request.context.requestState);
    },
    onError: async (request) => {
      if (!sent.has(request)) return;
      try {
        await settleChecks(request.context.requestState);
      } catch (refusal) {
        request.error = refusal as Error;
      }
    },
  };
}
