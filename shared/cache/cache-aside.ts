import { createHash } from 'node:crypto';
import type { Redis } from '@upstash/redis';
import { RedisUnavailable, withRedis } from './redis.js';

/** Result of the read script: the generation, and the entry when there is one. */
type ReadScript = { exec(keys: string[], args: string[]): Promise<[string, string?]> };

/** How a read was served: from Redis, from the source after a miss, or around Redis. */
export type CacheStatus = 'hit' | 'miss' | 'bypass';

/** Generation counters live a day; cached entries (≤ 60 s) never outlive their generation. */
const GENERATION_TTL_SECONDS = 86_400;

// One round trip: read the scope's generation and the entry stored under it. Both keys
// share the `{scope}` hash tag, so they sit in one slot on a Redis Cluster too.
const READ_SCRIPT = `
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ARGV[2])}
`;

const scripts = new WeakMap<Redis, ReadScript>();

/** The read script of this client: EVALSHA, falling back to EVAL on NOSCRIPT. */
function readScript(redis: Redis): ReadScript {
  let script = scripts.get(redis);
  if (!script) {
    script = redis.createScript<[string, string?]>(READ_SCRIPT) as ReadScript;
    scripts.set(redis, script);
  }
  return script;
}

function keys(scope: string, variant: string) {
  const hash = createHash('sha256').update(variant).digest('base64url').slice(0, 22);
  return { generation: `{${scope}}:gen`, prefix: `{${scope}}:g`, suffix: `:${hash}` };
}

/**
 * Cache-aside read of `variant` (a normalised query) within `scope` (e.g. one owner's notes):
 * returns the cached JSON value when there is one for the scope's current generation, else
 * runs `load`, stores its result for `ttlSeconds` and returns it. When Redis is unavailable
 * it just runs `load` (`bypass`). Entries of older generations are never read again, so
 * `invalidate(scope)` drops a whole scope in O(1), without KEYS or SCAN.
 */
export async function cacheAside<T>(
  scope: string,
  variant: string,
  ttlSeconds: number,
  load: () => Promise<T>,
): Promise<{ value: T; cache: CacheStatus }> {
  const k = keys(scope, variant);
  let generation: string;
  try {
    const [current, cached] = await withRedis((redis) =>
      readScript(redis).exec([k.generation], [k.prefix, k.suffix]),
    );
    if (cached !== undefined && cached !== null) {
      return { value: JSON.parse(cached) as T, cache: 'hit' };
    }
    generation = current;
  } catch (error) {
    if (error instanceof RedisUnavailable) return { value: await load(), cache: 'bypass' };
    throw error;
  }
  // Read the generation before the source: a write that commits meanwhile bumps it, so
  // this possibly older value is stored under a generation no later read will use.
  const value = await load();
  try {
    await withRedis((redis) =>
      redis.set(`${k.prefix}${generation}${k.suffix}`, JSON.stringify(value), { ex: ttlSeconds }),
    );
  } catch (error) {
    if (!(error instanceof RedisUnavailable)) throw error;
  }
  return { value, cache: 'miss' };
}

/**
 * Invalidates every cached entry of `scope` by bumping its generation. Call it after the
 * write has committed and before answering. Returns false when Redis was unavailable (the
 * entries then expire by their TTL).
 */
export async function invalidate(scope: string): Promise<boolean> {
  const key = keys(scope, '').generation;
  try {
    await withRedis((redis) =>
      redis.pipeline().incr(key).expire(key, GENERATION_TTL_SECONDS).exec(),
    );
    return true;
  } catch (error) {
    if (error instanceof RedisUnavailable) return false;
    throw error;
  }
}
