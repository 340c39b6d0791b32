import type { TestProject } from 'vitest/node';
import { localEnvironment, startLocalCache, startLocalDatabase } from '../../infra/local/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The environment of the functions under test (see shared/config.ts). */
    functionEnv: Record<string, string>;
  }
}

/**
 * Starts the test dependencies once per run: an embedded PostgreSQL in a temporary folder (or
 * a fresh database on the server of `DATABASE_URL`), migrated; a `redis-server` on a free
 * port (or `REDIS_URL`) behind the Upstash REST bridge; and a fresh signing key set.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await startLocalDatabase({ databaseUrl: process.env.DATABASE_URL, fresh: true });
  const cache = await startLocalCache({ redisUrl: process.env.REDIS_URL });
  if (!cache) throw new Error('The tests need Redis: install redis-server or set REDIS_URL.');
  const env = await localEnvironment({
    databaseUrl: database.url,
    issuer: 'http://localhost.test',
    cache,
  });
  // Suites about limits turn them on for themselves (tests/e2e/rate-limits.test.ts).
  // A generous Redis timeout: on a loaded 2-core CI machine 50 ms can pass without an
  // outage, and a spurious bypass would make cache assertions flaky.
  project.provide('functionEnv', { ...env, RATE_LIMITS: 'off', REDIS_TIMEOUT_MS: '1000' });
  return async () => {
    await cache.stop();
    await database.stop();
  };
}
