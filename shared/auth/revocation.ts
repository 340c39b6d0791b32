import { RedisUnavailable, withRedis } from '../cache/redis.js';
import type { RedisBatch } from '../cache/redis-batch.js';
import { CLOCK_TOLERANCE_SECONDS, type Principal } from './tokens.js';

const key = (tokenId: string) => `revoked-jti:${tokenId}`;

/**
 * Puts an access token's `jti` on the deny list until the token could no longer verify
 * anyway (its `exp` plus the clock tolerance). Returns false when Redis is unavailable: the
 * token then stays usable until it expires (≤ 15 min).
 */
export async function revokeAccessToken(principal: Principal): Promise<boolean> {
  const ttl = Math.max(
    1,
    principal.expiresAt + CLOCK_TOLERANCE_SECONDS - Math.floor(Date.now() / 1000),
  );
  try {
    await withRedis((redis) => redis.set(key(principal.tokenId), '1', { ex: ttl }));
    return true;
  } catch (error) {
    if (error instanceof RedisUnavailable) return false;
    throw error;
  }
}

/**
 * True when the `jti` is on the deny list (one `EXISTS` on a single key, so any cluster
 * slot). Fails open: without Redis (not configured, down, or slow) a token is taken as not
 * revoked, so an outage never locks users out. With `batch`, the command is queued there and
 * the promise settles when the batch is sent.
 */
export async function isAccessTokenRevoked(tokenId: string, batch?: RedisBatch): Promise<boolean> {
  try {
    const found = batch
      ? await batch.exists(key(tokenId))
      : await withRedis((redis) => redis.exists(key(tokenId)));
    return found === 1;
  } catch (error) {
    if (error instanceof RedisUnavailable) return false;
    throw error;
  }
}
