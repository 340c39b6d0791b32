import { getConfig } from '../config.js';
import { logger } from '../logger.js';
import { readSecretString } from '../secrets.js';
import { RedisClient } from './redis-client.js';

let client: Promise<RedisClient | null> | undefined;
/** How long a Redis secret read is reused, in ms: a rotated bridge token is picked up within this. */
const SECRET_MAX_AGE_MS = 300_000;

interface Endpoint {
  url: string;
  token: string;
}

/** The last secret read, reused for `SECRET_MAX_AGE_MS`. */
let secretRead: { arn: string; endpoint: Endpoint | null; readAt: number } | undefined;

/**
 * The endpoint in the secret `arn` (JSON `{"url", "token"}`; empty values: none yet), read
 * at most once per `SECRET_MAX_AGE_MS`. Errors: Secrets Manager errors, malformed JSON.
 */
async function readEndpointSecret(arn: string): Promise<Endpoint | null> {
  if (secretRead?.arn === arn && Date.now() - secretRead.readAt < SECRET_MAX_AGE_MS) {
    return secretRead.endpoint;
  }
  const value = JSON.parse((await readSecretString(arn)) || '{}') as Partial<Endpoint> | null;
  // An Upstash stage's secret stays empty until the operator fills it: no Redis until then.
  const endpoint =
    typeof value?.url === 'string' && value.url && typeof value.token === 'string' && value.token
      ? { url: value.url, token: value.token }
      : null;
  secretRead = { arn, endpoint, readAt: Date.now() };
  return endpoint;
}

/** Where the Upstash REST endpoint is: `REDIS_REST_URL`/`_TOKEN`, or the secret of `REDIS_REST_SECRET_ARN`. */
async function endpoint(): Promise<Endpoint | null> {
  const config = getConfig();
  if (config.REDIS_REST_URL && config.REDIS_REST_TOKEN) {
    return { url: config.REDIS_REST_URL, token: config.REDIS_REST_TOKEN };
  }
  if (!config.REDIS_REST_SECRET_ARN) return null;
  return readEndpointSecret(config.REDIS_REST_SECRET_ARN);
}

/**
 * The instance's Redis client (`RedisClient`, the Upstash REST protocol over a keep-alive
 * agent), or null when no endpoint is configured (the degraded mode). Settings for Lambda:
 * each call aborts after `REDIS_TIMEOUT_MS`, no retries (a retry would only add latency to a
 * request that can do without Redis), values stored and read as plain strings. Resolved once
 * per instance and again after a failure or while the secret is empty (its reads are cached
 * for 5 minutes).
 * Errors: Secrets Manager errors.
 */
export function getRedis(): Promise<RedisClient | null> {
  client ??= endpoint()
    .then((found) => {
      if (!found) {
        // An empty secret may be filled later: look again (the read is cached 5 minutes).
        if (getConfig().REDIS_REST_SECRET_ARN) client = undefined;
        return null;
      }
      const { REDIS_TIMEOUT_MS } = getConfig();
      return new RedisClient({ ...found, timeoutMs: REDIS_TIMEOUT_MS });
    })
    .catch((error: unknown) => {
      client = undefined;
      throw error;
    });
  return client;
}

/** Redis is not configured, or failed or timed out recently (circuit open). */
export class RedisUnavailable extends Error {
  override name = 'RedisUnavailable';
}

let openUntil = 0;
/** Failures since the last success; at `REDIS_FAILURES_TO_OPEN` the circuit opens. */
let consecutiveFailures = 0;

/**
 * Runs `operation` against Redis behind a circuit breaker (the consecutive-failures breaker
 * of M. Nygard, "Release It!", as Polly and resilience4j count them): after
 * `REDIS_FAILURES_TO_OPEN` failures in a row (errors or timeouts, no success between) Redis
 * is skipped for `REDIS_RETRY_AFTER_MS`, so an outage costs each instance a few timeouts
 * per window instead of one per call, while one slow call (a GC pause, a saturated event
 * loop) only costs its own request. After the window one call tries again (half-open): a
 * success closes the circuit, so a recovered Redis is used without a restart; a failure
 * opens it again at once.
 * Errors: `RedisUnavailable` — callers fall back (bypass the cache, apply the fail mode).
 */
export async function withRedis<T>(operation: (redis: RedisClient) => Promise<T>): Promise<T> {
  if (Date.now() < openUntil) throw new RedisUnavailable('Redis failed recently; skipping it.');
  let result: T;
  try {
    const redis = await getRedis();
    if (!redis) throw new RedisUnavailable('Redis is not configured.');
    result = await operation(redis);
  } catch (error) {
    if (error instanceof RedisUnavailable) throw error;
    recordFailure(error as Error);
    throw new RedisUnavailable((error as Error).message);
  }
  consecutiveFailures = 0;
  return result;
}

/** Counts a failed call and opens the circuit at the threshold (see `withRedis`). */
function recordFailure(error: Error): void {
  const { REDIS_FAILURES_TO_OPEN, REDIS_RETRY_AFTER_MS, REDIS_REST_SECRET_ARN } = getConfig();
  consecutiveFailures += 1;
  // Resolve the endpoint again next time: a rotated token (401) needs the new secret.
  if (REDIS_REST_SECRET_ARN) client = undefined;
  if (consecutiveFailures < REDIS_FAILURES_TO_OPEN) return;
  if (Date.now() >= openUntil) {
    logger.warn('redis unavailable; bypassing it', {
      error: error.message,
      consecutiveFailures,
      skipForMs: REDIS_RETRY_AFTER_MS,
    });
  }
  openUntil = Date.now() + REDIS_RETRY_AFTER_MS;
  // Half-open after the window: the first failure then opens the circuit again.
  consecutiveFailures = REDIS_FAILURES_TO_OPEN - 1;
}

/**
 * Health probe: `PING` within `timeoutMs`, ignoring the circuit breaker.
 * Returns `disabled` when Redis is not configured.
 */
export async function pingRedis(timeoutMs: number): Promise<'ok' | 'unavailable' | 'disabled'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const redis = await getRedis();
    if (!redis) return getConfig().STAGE === 'local' ? 'disabled' : 'unavailable';
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    await Promise.race([redis.ping(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}
