import type { TestProject } from 'vitest/node';
import { localEnvironment, startLocalDatabase } from '../../infra/local/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The environment of the functions under test (see shared/config.ts). */
    functionEnv: Record<string, string>;
  }
}

/**
 * Starts the test database once per run: an embedded PostgreSQL in a temporary folder, or a
 * fresh database on the server of `DATABASE_URL`, migrated; and a fresh signing key set.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await startLocalDatabase({ databaseUrl: process.env.DATABASE_URL, fresh: true });
  const env = await localEnvironment({
    databaseUrl: database.url,
    issuer: 'http://localhost.test',
  });
  project.provide('functionEnv', env);
  return () => database.stop();
}
