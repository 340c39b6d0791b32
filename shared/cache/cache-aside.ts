import { createHash } from 'node:crypto';
import { getSql, type Queryable } from '../db/client.js';
import { countMetric, MetricName, traced } from '../observability.js';
import { RedisUnavailable, withRedis } from './redis.js';

/** How a read was served: from Redis, from the source after a miss, or around Redis. */
export type CacheStatus = 'hit' | 'miss' | 'bypass';

/**
 * The current version of `scope` (e.g. `notes:<owner id>`) from PostgreSQL's
 * `cache_versions`, as a decimal string; `'0'` before the scope's first write. One
 * primary-key lookup. Writes bump it in their own transaction (a trigger, or
 * `bumpCacheVersion`), so this is never older than a write that has committed.
 * Errors: database errors (the caller's request fails like any other read).
 */
export async function readCacheVersion(scope: string, sql: Queryable = getSql()): Promise<string> {
  const [row] = await sql<{ version: string }[]>`
    SELECT version FROM cache_versions WHERE scope = ${scope}`;
  return row?.version ?? '0';
}

/**
 * Bumps the version of `scope` inside the caller's transaction `sql`, so the write and the
 * new version commit together: for write paths without a trigger doing it (the notes table
 * has one). Every entry cached under an older version is never read again.
 */
export async function bumpCacheVersion(sql: Queryable, scope: string): Promise<void> {
  await sql`
    INSERT INTO cache_versions (scope, version) VALUES (${scope}, 1)
    ON CONFLICT (scope) DO UPDATE SET version = cache_versions.version + 1`;
}

/** The Redis key of `variant` in `scope` at `version`: `{<scope>}:v<version>:<hash>`. */
function entryKey(scope: string, version: string, variant: string): string {
  const hash = createHash('sha256').update(variant).digest('base64url').slice(0, 22);
  // The `{scope}` hash tag keeps a scope's entries in one slot on a Redis Cluster.
  return `{${scope}}:v${version}:${hash}`;
}

export interface CacheAsideOptions<T> {
  /** What a version covers, e.g. `notes:<owner id>` (all of one owner's list pages). */
  scope: string;
  /** The normalised request within the scope (a query); hashed into the key. */
  variant: string;
  /** Lifetime of a stored entry, in seconds. */
  ttlSeconds: number;
  /** The scope's current version from the source of truth (e.g. `readCacheVersion`). */
  version: () => Promise<string>;
  /** Reads the value from the source of truth; its result must be JSON. */
  load: () => Promise<T>;
}

/**
 * Cache-aside read: gets the scope's current version from the source of truth, then the
 * entry stored in Redis under that version (one GET); on a miss runs `load` and stores its
 * result under the same version for `ttlSeconds`. Redis only holds copies: it never decides
 * what is fresh, so a write that committed while Redis was unreachable is still seen by the
 * next read. When Redis is unavailable `load` runs directly (`bypass`). Each read counts one
 * `CacheHits`, `CacheMisses` or `CacheBypasses` metric; its Redis calls are `Redis` subsegments
 * in a trace.
 * Errors: those of `version` and `load`; Redis failures are never thrown.
 */
export async function cacheAside<T>(
  options: CacheAsideOptions<T>,
): Promise<{ value: T; cache: CacheStatus }> {
  // The version is read before the source: a write committing in between bumps it, so a
  // value loaded before that write is stored under a version no later read asks for.
  const key = entryKey(options.scope, await options.version(), options.variant);
  try {
    const cached = await withRedis((redis) => traced('Redis', () => redis.get(key)));
    if (cached !== null && cached !== undefined) {
      countMetric(MetricName.cacheHits);
      return { value: JSON.parse(cached) as T, cache: 'hit' };
    }
  } catch (error) {
    if (!(error instanceof RedisUnavailable)) throw error;
    countMetric(MetricName.cacheBypasses);
    return { value: await options.load(), cache: 'bypass' };
  }
  countMetric(MetricName.cacheMisses);
  const value = await options.load();
  try {
    await withRedis((redis) =>
      traced('Redis', () => redis.set(key, JSON.stringify(value), { ex: options.ttlSeconds })),
    );
  } catch (error) {
    if (!(error instanceof RedisUnavailable)) throw error;
  }
  return { value, cache: 'miss' };
}
