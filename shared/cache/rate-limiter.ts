import { Ratelimit } from '@upstash/ratelimit';
import type { Redis } from '@upstash/redis';
import { getConfig } from '../config.js';
import type { RateLimitPolicy } from '../rate-limits.js';
import { RedisUnavailable, withRedis } from './redis.js';

/** The outcome of one rate-limit check. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window frees capacity again (≥ 1 when denied). */
  resetSeconds: number;
}

const limiters = new WeakMap<Redis, Map<string, Ratelimit>>();

function limiterFor(redis: Redis, policy: RateLimitPolicy): Ratelimit {
  let byPolicy = limiters.get(redis);
  if (!byPolicy) {
    byPolicy = new Map();
    limiters.set(redis, byPolicy);
  }
  let limiter = byPolicy.get(policy.name);
  if (!limiter) {
    limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(policy.limit, `${policy.windowSeconds} s`),
      prefix: `rl:${policy.name}`,
      // Our Redis client has its own timeout and the circuit breaker; no second timer.
      timeout: 0,
      analytics: false,
    });
    byPolicy.set(policy.name, limiter);
  }
  return limiter;
}

/**
 * Rate limits are off: only on the `local` stage, with `RATE_LIMITS=off` or without Redis
 * (the local degraded mode). Elsewhere a missing Redis counts as an outage and each policy's
 * fail mode applies.
 */
export function rateLimitsDisabled(): boolean {
  const config = getConfig();
  return config.STAGE === 'local' && (config.RATE_LIMITS === 'off' || !config.REDIS_REST_URL);
}

function resetSeconds(resetAtMs: number): number {
  return Math.max(1, Math.ceil((resetAtMs - Date.now()) / 1000));
}

/**
 * Spends one request of `identity`'s budget under `policy` (sliding window,
 * `@upstash/ratelimit` 2.0.x). Returns the decision, or `unavailable` when Redis is (the
 * caller applies the policy's fail mode).
 */
export async function consumeRateLimit(
  policy: RateLimitPolicy,
  identity: string,
): Promise<RateLimitDecision | 'unavailable'> {
  try {
    const result = await withRedis((redis) => limiterFor(redis, policy).limit(identity));
    return {
      allowed: result.success,
      limit: result.limit,
      remaining: Math.max(0, result.remaining),
      resetSeconds: resetSeconds(result.reset),
    };
  } catch (error) {
    if (error instanceof RedisUnavailable) return 'unavailable';
    throw error;
  }
}

/** The budget `identity` has left under `policy`, without spending any; or `unavailable`. */
export async function peekRateLimit(
  policy: RateLimitPolicy,
  identity: string,
): Promise<RateLimitDecision | 'unavailable'> {
  try {
    const result = await withRedis((redis) => limiterFor(redis, policy).getRemaining(identity));
    return {
      allowed: result.remaining > 0,
      limit: policy.limit,
      remaining: Math.max(0, result.remaining),
      resetSeconds: resetSeconds(result.reset),
    };
  } catch (error) {
    if (error instanceof RedisUnavailable) return 'unavailable';
    throw error;
  }
}

/** Forgets what `identity` spent under `policy` (e.g. failed logins after a success). */
export async function resetRateLimit(policy: RateLimitPolicy, identity: string): Promise<void> {
  try {
    await withRedis((redis) => limiterFor(redis, policy).resetUsedTokens(identity));
  } catch (error) {
    if (!(error instanceof RedisUnavailable)) throw error;
  }
}

/**
 * Response headers for a decision: `RateLimit-Limit`, `-Remaining`, `-Reset` (seconds) and
 * `RateLimit-Policy: <limit>;w=<window>` (IETF httpapi ratelimit-headers draft).
 */
export function rateLimitHeaders(
  policy: RateLimitPolicy,
  decision: RateLimitDecision,
): Record<string, string> {
  return {
    'RateLimit-Policy': `${policy.limit};w=${policy.windowSeconds}`,
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(decision.resetSeconds),
  };
}
