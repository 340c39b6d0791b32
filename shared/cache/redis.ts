import { Redis } from '@upstash/redis';
import { getConfig } from '../config.js';
import { logger } from '../logger.js';

let client: Redis | null | undefined;

/**
 * The instance's `@upstash/redis` client, or null when `REDIS_REST_URL` is unset (the local
 * degraded mode). Settings for Lambda: each call aborts after `REDIS_TIMEOUT_MS`, no retries
 * (a retry would only add latency to a request that can do without Redis), no telemetry,
 * values stored and read as plain strings.
 */
export function getRedis(): Redis | null {
  if (client !== undefined) return client;
  const config = getConfig();
  client =
    config.REDIS_REST_URL && config.REDIS_REST_TOKEN
      ? new Redis({
          url: config.REDIS_REST_URL,
          token: config.REDIS_REST_TOKEN,
          retry: false,
          enableTelemetry: false,
          automaticDeserialization: false,
          readYourWrites: false,
          signal: () => AbortSignal.timeout(config.REDIS_TIMEOUT_MS),
        })
      : null;
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
  const redis = getRedis();
  if (!redis) throw new RedisUnavailable('Redis is not configured.');
  if (Date.now() < openUntil) throw new RedisUnavailable('Redis failed recently; skipping it.');
  try {
    return await operation(redis);
  } catch (error) {
    if (Date.now() >= openUntil) {
      logger.warn('redis unavailable; bypassing it', { error: (error as Error).message });
    }
    openUntil = Date.now() + getConfig().REDIS_RETRY_AFTER_MS;
    throw new RedisUnavailable((error as Error).message);
  }
}

/**
 * Health probe: `PING` within `timeoutMs`, ignoring the circuit breaker.
 * Returns `disabled` when Redis is not configured.
 */
export async function pingRedis(timeoutMs: number): Promise<'ok' | 'unavailable' | 'disabled'> {
  const redis = getRedis();
  if (!redis) return 'disabled';
  let timer: NodeJS.Timeout | undefined;
  try {
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
