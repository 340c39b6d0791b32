import { getConfig } from '../config.js';
import type { RateLimitPolicy } from '../rate-limits.js';
import { RedisUnavailable, withRedis } from './redis.js';
import { type RedisBatch, scriptSha } from './redis-batch.js';
import type { RedisClient, RedisReply } from './redis-client.js';

/** The outcome of one rate-limit check. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window frees capacity again (≥ 1 when denied). */
  resetSeconds: number;
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

/**
 * Spends one request of `identity`'s budget under `policy` (the same sliding window as
 * `takeBudgets`, whose keys share the hash tag `{route:<identity>}`, so it works on a Redis
 * Cluster such as ElastiCache Serverless; `@upstash/ratelimit` 2.0.x names an extra key
 * outside any tag and fails there with CROSSSLOT). Returns the decision, or `unavailable`
 * when Redis is (the caller applies the policy's fail mode).
 */
export async function consumeRateLimit(
  policy: RateLimitPolicy,
  identity: string,
  batch?: RedisBatch,
): Promise<RateLimitDecision | 'unavailable'> {
  const result = await takeBudgets(`route:${identity}`, [{ policy }], Date.now(), batch);
  if (result === 'unavailable') return result;
  return result.denied?.decision ?? (result.decisions[0] as RateLimitDecision);
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

// ---------------------------------------------------------------------------------------------
// Budgets taken atomically, given back, and safe on a Redis Cluster.
//
// `@upstash/ratelimit` 2.0.x takes one token per `limit()` call, but it cannot take from two
// budgets at once, its `resetUsedTokens` runs `SCAN` (one node's keys only on a cluster, and
// a full keyspace walk), and its scripts always pass an empty third key, which a cluster
// answers with CROSSSLOT. These small scripts do what the per-IP and login budgets need: the
// same sliding-window counter (the previous fixed window weighted by the part of it still
// inside the sliding window, plus the current one), taken all or nothing from several budgets
// in one round trip, and a token given back by decrementing the counter it was taken from.
// All keys of one call share a hash tag, so they live in one cluster slot.
// ---------------------------------------------------------------------------------------------

/** One budget of an atomic take. */
export interface Budget {
  policy: RateLimitPolicy;
  /** Whose budget within the call's hash tag (e.g. the source IP); omit when the tag names it. */
  identity?: string;
  /** Tokens to take: 1, or 0 to only require that one is left (default 1). */
  cost?: 0 | 1;
}

/** A window's counters for one budget: requests in the current and in the previous window. */
export interface WindowCounts {
  current: number;
  previous: number;
}

/** What a take took, to give back with `giveBack` (opaque). */
export interface BudgetReceipt {
  readonly keys: readonly string[];
}

/** The outcome of `takeBudgets`. */
export interface BudgetsDecision {
  /** Every budget had a token: the tokens of the budgets with cost 1 were taken. */
  allowed: boolean;
  /** One decision per budget, in the order given. */
  decisions: RateLimitDecision[];
  /** The first budget without a token left, when not allowed (then nothing was taken). */
  denied?: { policy: RateLimitPolicy; decision: RateLimitDecision };
  receipt: BudgetReceipt;
}

// KEYS[2i-1], KEYS[2i]: budget i's current and previous window counters.
// ARGV[4i-3..4i]: budget i's limit, cost, weight of the previous window, expiry (unix ms).
// Returns {denied budget index or 0, current_1, previous_1, current_2, previous_2, ...}.
const TAKE_SCRIPT = `
local counts, denied = {}, 0
for i = 1, #KEYS / 2 do
  local limit, weight = tonumber(ARGV[4 * i - 3]), tonumber(ARGV[4 * i - 1])
  local current = tonumber(redis.call('GET', KEYS[2 * i - 1]) or 0)
  local previous = tonumber(redis.call('GET', KEYS[2 * i]) or 0)
  if denied == 0 and previous * weight + current + 1 > limit then denied = i end
  counts[2 * i - 1], counts[2 * i] = current, previous
end
if denied == 0 then
  for i = 1, #KEYS / 2 do
    local cost = tonumber(ARGV[4 * i - 2])
    if cost > 0 then
      counts[2 * i - 1] = redis.call('INCRBY', KEYS[2 * i - 1], cost)
      redis.call('PEXPIREAT', KEYS[2 * i - 1], ARGV[4 * i])
    end
  end
end
table.insert(counts, 1, denied)
return counts
`;

// Decrements each counter that is still above zero (an expired one is left alone).
const GIVE_BACK_SCRIPT = `
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or 0) > 0 then redis.call('DECR', KEYS[i]) end
end
return #KEYS
`;

/** Runs a Lua script by its SHA-1 (`EVALSHA`), loading it with `EVAL` on `NOSCRIPT`. */
async function runScript<T extends RedisReply>(
  redis: RedisClient,
  script: string,
  keys: string[],
  args: string[],
): Promise<T> {
  try {
    return await redis.evalsha<T>(scriptSha(script), keys, args);
  } catch (error) {
    if (!String(error).includes('NOSCRIPT')) throw error;
    return redis.eval<T>(script, keys, args);
  }
}

/** A key part without `{` or `}`, so only the call's own hash tag decides the cluster slot. */
const keyPart = (value: string) => value.replace(/[{}]/g, '_');

/** `rl:{<tag>}:<policy>[:<identity>]:<window index>`; the window index counts from the epoch. */
function counterKey(tag: string, budget: Budget, windowIndex: number): string {
  const identity = budget.identity === undefined ? '' : `:${keyPart(budget.identity)}`;
  return `rl:{${keyPart(tag)}}:${budget.policy.name}${identity}:${windowIndex}`;
}

/**
 * Sliding-window usage at `atMs` of a budget whose counters were `counts` at `nowMs`, with
 * no take in between: the previous window weighted by the part of it still inside the
 * sliding window, plus the current one (the algorithm of `@upstash/ratelimit`).
 */
export function slidingWindowUsage(
  counts: WindowCounts,
  windowMs: number,
  nowMs: number,
  atMs: number,
): number {
  const start = nowMs - (nowMs % windowMs);
  if (atMs >= start + 2 * windowMs) return 0;
  if (atMs >= start + windowMs) {
    return counts.current * (1 - (atMs - start - windowMs) / windowMs);
  }
  return counts.previous * (1 - (atMs - start) / windowMs) + counts.current;
}

/**
 * Milliseconds from `nowMs` until a budget of `limit` per `windowMs` whose counters are
 * `counts` has room for one more token again, with no take in between; 0 when it has room
 * now. Solves `slidingWindowUsage(at) + 1 ≤ limit` for the earliest `at`.
 */
export function msUntilRoom(
  counts: WindowCounts,
  limit: number,
  windowMs: number,
  nowMs: number,
): number {
  if (slidingWindowUsage(counts, windowMs, nowMs, nowMs) + 1 <= limit) return 0;
  const start = nowMs - (nowMs % windowMs);
  let at: number;
  if (counts.current + 1 <= limit) {
    // The weighted previous window is what is in the way; it shrinks within this window.
    at = start + windowMs * (1 - (limit - 1 - counts.current) / counts.previous);
  } else {
    // The current window alone is over: it becomes the previous one, then shrinks.
    at = start + windowMs + windowMs * (1 - (limit - 1) / counts.current);
  }
  return Math.max(0, Math.ceil(at - nowMs));
}

/**
 * Takes one token from each budget with cost 1, all or nothing, and only if every budget
 * (cost 0 ones too) has one left: one `EVALSHA` against keys that all carry the hash tag
 * `{tag}` (one Redis Cluster slot). Two requests racing for the last token never both get
 * it. `resetSeconds` of a denied budget is when it has room again (≥ 1), else the end of its
 * current window. Returns `unavailable` when Redis is (the caller applies the fail mode).
 * With `batch`, the script is queued there and the promise settles when the batch is sent
 * (one round trip shared with the request's other Redis work).
 * Errors: Redis command errors other than unavailability (a bug).
 */
export async function takeBudgets(
  tag: string,
  budgets: Budget[],
  nowMs = Date.now(),
  batch?: RedisBatch,
): Promise<BudgetsDecision | 'unavailable'> {
  const keys: string[] = [];
  const args: string[] = [];
  const taken: string[] = [];
  for (const budget of budgets) {
    const windowMs = budget.policy.windowSeconds * 1000;
    const index = Math.floor(nowMs / windowMs);
    const current = counterKey(tag, budget, index);
    keys.push(current, counterKey(tag, budget, index - 1));
    const cost = budget.cost ?? 1;
    if (cost > 0) taken.push(current);
    // The counter of window `index` is read as the previous one until window index + 1 ends.
    const expiresAt = (index + 2) * windowMs + 1000;
    const weight = 1 - (nowMs % windowMs) / windowMs;
    args.push(String(budget.policy.limit), String(cost), String(weight), String(expiresAt));
  }
  let reply: number[];
  try {
    reply = await (batch
      ? batch.script<number[]>(TAKE_SCRIPT, keys, args)
      : withRedis((redis) => runScript<number[]>(redis, TAKE_SCRIPT, keys, args)));
  } catch (error) {
    if (error instanceof RedisUnavailable) return 'unavailable';
    throw error;
  }
  const deniedIndex = Number(reply[0]) - 1;
  const decisions = budgets.map((budget, i): RateLimitDecision => {
    const { limit, windowSeconds } = budget.policy;
    const windowMs = windowSeconds * 1000;
    const counts = { current: Number(reply[2 * i + 1]), previous: Number(reply[2 * i + 2]) };
    const used = slidingWindowUsage(counts, windowMs, nowMs, nowMs);
    const waitMs =
      i === deniedIndex
        ? msUntilRoom(counts, limit, windowMs, nowMs)
        : windowMs - (nowMs % windowMs);
    return {
      allowed: i !== deniedIndex,
      limit,
      remaining: Math.max(0, Math.floor(limit - used)),
      resetSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    };
  });
  if (deniedIndex < 0) return { allowed: true, decisions, receipt: { keys: taken } };
  const denied = {
    policy: (budgets[deniedIndex] as Budget).policy,
    decision: decisions[deniedIndex] as RateLimitDecision,
  };
  return { allowed: false, decisions, denied, receipt: { keys: [] } };
}

/**
 * Gives back the tokens a `takeBudgets` call took (one `EVALSHA`, same hash tag), e.g. the
 * failure budget of a login whose password was right. Best effort: when Redis is
 * unavailable the tokens stay spent until the window slides past them (the safe direction).
 */
export async function giveBack(receipt: BudgetReceipt): Promise<void> {
  if (!receipt.keys.length) return;
  try {
    await withRedis((redis) => runScript(redis, GIVE_BACK_SCRIPT, [...receipt.keys], []));
  } catch (error) {
    if (!(error instanceof RedisUnavailable)) throw error;
  }
}
