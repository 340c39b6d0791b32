import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { publicKeySetOf } from '../../shared/auth/keys.js';
import { migrate } from '../../shared/db/migrations.js';
import { generateSigningKeySet, loadOrCreateSigningKeySet } from './keys.js';
import { createTemporaryDir, startEmbeddedPostgres } from './postgres.js';
import { hasRedisServer, type LocalRedis, startRedisServer } from './redis-server.js';
import { startUpstashBridge } from './upstash-bridge.js';

export interface LocalDatabase {
  url: string;
  /** True when we started PostgreSQL ourselves (not `DATABASE_URL`). */
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * The database of the local cloud, migrated to the latest version:
 * - `databaseUrl` given: that server; with `fresh`, a new database `test_<random>` in it
 *   (dropped on stop), else the database itself;
 * - otherwise an embedded PostgreSQL: in `dataDir` and kept between runs, or, with `fresh`,
 *   in a temporary folder `notes-pg-*` deleted on stop.
 * Nothing started outlives a failure: when a step fails, what was started is stopped (and
 * the temporary folder deleted) before the error is thrown; the embedded server and its
 * folder are also reaped when the process exits or is interrupted (`reapOnExit`).
 */
export async function startLocalDatabase(options: {
  databaseUrl?: string | undefined;
  dataDir?: string;
  port?: number;
  fresh?: boolean;
}): Promise<LocalDatabase> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    let url: string;
    if (options.databaseUrl) {
      url = options.databaseUrl;
    } else {
      let dataDir = options.dataDir ?? join(tmpdir(), 'notes-pg');
      if (options.fresh) {
        const temporary = await createTemporaryDir('notes-pg-');
        stops.push(async () => temporary.remove());
        dataDir = join(temporary.path, 'data');
      }
      const server = await startEmbeddedPostgres({
        dataDir,
        persistent: !options.fresh,
        ...(options.port ? { port: options.port } : {}),
      });
      stops.push(() => server.stop());
      url = server.url;
    }
    if (options.fresh) {
      const name = `test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
      const admin = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await admin`CREATE DATABASE ${admin(name)}`;
      } finally {
        await admin.end();
      }
      const base = url;
      url = withDatabase(url, name);
      stops.push(async () => {
        const cleanup = postgres(base, { max: 1, onnotice: () => {} });
        try {
          await cleanup`DROP DATABASE IF EXISTS ${cleanup(name)} WITH (FORCE)`;
        } finally {
          await cleanup.end();
        }
      });
    }
    await migrate({ databaseUrl: url, direction: 'up' });
    return { url, embedded: !options.databaseUrl, stop: stopAll };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}

export interface LocalCache {
  /** `redis://…` of the Redis behind the bridge. */
  redisUrl: string;
  /** The Upstash REST endpoint and token the functions use. */
  restUrl: string;
  restToken: string;
  /** The `redis-server` we started (absent with `REDIS_URL`). */
  server?: LocalRedis;
  stop(): Promise<void>;
}

/**
 * Redis for the local cloud behind the Upstash REST bridge: `redisUrl` (from `REDIS_URL`)
 * when given, else a throw-away `redis-server` on a free port. Returns null when there is
 * neither (no `redis-server` binary): the stack then runs without cache and rate limits.
 */
export async function startLocalCache(options: {
  redisUrl?: string | undefined;
}): Promise<LocalCache | null> {
  let server: LocalRedis | undefined;
  let redisUrl = options.redisUrl;
  if (!redisUrl) {
    if (!hasRedisServer()) return null;
    server = await startRedisServer();
    redisUrl = server.url;
  }
  try {
    const bridge = await startUpstashBridge({ redisUrl });
    return {
      redisUrl,
      restUrl: bridge.url,
      restToken: bridge.token,
      ...(server ? { server } : {}),
      stop: async () => {
        await bridge.close();
        await server?.stop();
      },
    };
  } catch (error) {
    await server?.stop();
    throw error;
  }
}

/** `url` with its database name replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * The environment the functions read (see `shared/config.ts`) for the local cloud, with
 * `STAGE=local`. The signing keys come from `keysFile` (created on first use), or are
 * generated afresh (tests); the verifiers' public key set (`JWT_PUBLIC_KEYS`) is derived
 * from them, so a function given only that one verifies without any private key. Without
 * `cache` the functions run without Redis.
 */
export async function localEnvironment(options: {
  databaseUrl: string;
  issuer: string;
  keysFile?: string;
  cache?: LocalCache | null;
}): Promise<Record<string, string>> {
  const keys = options.keysFile
    ? await loadOrCreateSigningKeySet(options.keysFile)
    : await generateSigningKeySet();
  return {
    STAGE: 'local',
    POWERTOOLS_METRICS_DISABLED: 'true', // EMF lines are for CloudWatch; tests turn them on
    DATABASE_URL: options.databaseUrl,
    DB_POOL_MAX: '10',
    JWT_ISSUER: options.issuer,
    JWT_AUDIENCE: 'notes-api',
    JWT_SIGNING_KEYS: keys,
    JWT_PUBLIC_KEYS: publicKeySetOf(keys),
    // The migration function's application role (`npm run invoke -- deploy/migrate …`).
    APP_DATABASE_CREDENTIALS: JSON.stringify({
      username: 'notes_app',
      password: 'notes-app-local',
    }),
    ...(options.cache
      ? { REDIS_REST_URL: options.cache.restUrl, REDIS_REST_TOKEN: options.cache.restToken }
      : {}),
  };
}
