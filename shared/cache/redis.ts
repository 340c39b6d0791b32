import { Redis } from '@upstash/redis';
import { getConfig } from '../config.js';
import { logger } from '../logger.js';

let client: Promise<Redis | null> | undefined;
/** How long a Redis secret read is reused: a rotated bridge token is picked up within this. */
const SECRET_MAX_AGE_SECONDS = 300;

/** Where the Upstash REST endpoint is: `REDIS_REST_URL`/`_TOKEN`, or the secret of `REDIS_REST_SECRET_ARN`. */
async function endpoint(): Promise<{ url: string; token: string } | null> {
  const config = getConfig();
  if (config.REDIS_REST_URL && config.REDIS_REST_TOKEN) {
    return { url: config.REDIS_REST_URL, token: config.REDIS_REST_TOKEN };
  }
  if (!config.REDIS_REST_SECRET_ARN) return null;
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  const value = (await getSecret(config.REDIS_REST_SECRET_ARN, {
    transform: 'json',
    maxAge: SECRET_MAX_AGE_SECONDS,
  })) as {
    url?: string;
    token?: string;
  };
  // An Upstash stage's secret stays empty until the operator fills it: no Redis until then.
  return value?.url && value.token ? { url: value.url, token: value.token } : null;
}

/**
 * The instance's `@upstash/redis` client, or null when no endpoint is configured (the
 * degraded mode). Settings for Lambda: each call aborts after `REDIS_TIMEOUT_MS`, no retries
 * (a retry would only add latency to a request that can do without Redis), no telemetry,
 * values stored and read as plain strings. Resolved once per instance and again after a
 * failure or while the secret is empty (its reads are cached for 5 minutes).
 * Errors: Secrets Manager errors.
 */
export function getRedis(): Promise<Redis | null> {
  client ??= endpoint()
    .then((found) => {
      if (!found) {
        // An empty secret may be filled later: look again (Powertools caches the read).
        if (getConfig().REDIS_REST_SECRET_ARN) client = undefined;
        return null;
      }
      const { REDIS_TIMEOUT_MS } = getConfig();
      return new Redis({
        url: found.url,
        token: found.token,
        retry: false,
        enableTelemetry: false,
        automaticDeserialization: false,
        readYourWrites: false,
        signal: () => AbortSignal.timeout(REDIS_TIMEOUT_MS),
      });
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

/**
 * Runs `operation` against Redis behind a circuit breaker: after a failure (error or
 * timeout) Redis is skipped for `REDIS_RETRY_AFTER_MS`, so an outage costs one timeout per
 * instance and window instead of one per call; the next call after the window tries again,
 * so a recovered Redis is used without a restart.
 * Errors: `RedisUnavailable` — callers fall back (bypass the cache, apply the fail mode).
 */
export async function withRedis<T>(operation: (redis: Redis) => Promise<T>): Promise<T> {
  if (Date.now() < openUntil) throw new RedisUnavailable('Redis failed recently; skipping it.');
  try {
    const redis = await getRedis();
    if (!redis) throw new RedisUnavailable('Redis is not configured.');
    return await operation(redis);
  } catch (error) {
    if (error instanceof RedisUnavailable) throw error;
    if (Date.now() >= openUntil) {
      logger.warn('redis unavailable; bypassing it', { error: (error as Error).message });
    }
    openUntil = Date.now() + getConfig().REDIS_RETRY_AFTER_MS;
    // Resolve the endpoint again next time: a rotated token (401) needs the new secret.
    if (getConfig().REDIS_REST_SECRET_ARN) client = undefined;
    throw new RedisUnavailable((error as Error).message);
  }
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
