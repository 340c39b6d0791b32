import type { TestProject } from 'vitest/node';
import { hasRedisServer, REDIS_SERVER_HINT } from '../../infra/local/redis-server.js';
import { type LocalMail, startLocalMail } from '../../infra/local/ses.js';
import {
  type LocalCache,
  type LocalDatabase,
  localEnvironment,
  startLocalCache,
  startLocalDatabase,
} from '../../infra/local/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The environment of the functions under test (see shared/config.ts). */
    functionEnv: Record<string, string>;
  }
}

/** What a run without Redis prints, alone, before it exits with status 1. */
export const REDIS_MISSING_MESSAGE = `The tests need Redis, and redis-server is not on the PATH: ${REDIS_SERVER_HINT}.`;

/**
 * Starts the test dependencies once per run: an embedded PostgreSQL in a temporary folder (or
 * a fresh database on the server of `DATABASE_URL`), migrated; a `redis-server` on a free
 * port (or `REDIS_URL`) behind the Upstash REST bridge; the SES emulator on a free port (the
 * mail the functions send, readable at `SES_ENDPOINT`/store); and a fresh signing key set.
 *
 * Checks first what it cannot do without: with neither `REDIS_URL` nor `redis-server` (or a
 * malformed URL), it prints one message (`REDIS_MISSING_MESSAGE`) and exits 1 before starting
 * anything. When a later step fails, it stops what it had started, then prints the error and
 * exits 1; an interrupted run (Ctrl-C, SIGTERM) leaves nothing either (`reapOnExit` in
 * infra/local/postgres.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Printed and exited here: thrown, vitest would bury the message between "No test files
  // found" and a stack trace.
  const fail = (message: string): never => {
    console.error(`\n${message}\n`);
    process.exit(1);
  };
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (DATABASE_URL !== undefined && !/^postgres(ql)?:\/\//.test(DATABASE_URL)) {
    fail(
      'DATABASE_URL must be a postgres:// or postgresql:// URL (or unset: the tests then start their own PostgreSQL).',
    );
  }
  if (REDIS_URL !== undefined && !/^rediss?:\/\//.test(REDIS_URL)) {
    fail(
      'REDIS_URL must be a redis:// or rediss:// URL (or unset: the tests then start their own redis-server).',
    );
  }
  if (!REDIS_URL && !hasRedisServer()) fail(REDIS_MISSING_MESSAGE);
  let database: LocalDatabase | undefined;
  let cache: LocalCache | null = null;
  let mail: LocalMail | undefined;
  const teardown = async () => {
    await mail?.stop();
    await cache?.stop();
    await database?.stop();
  };
  try {
    database = await startLocalDatabase({ databaseUrl: DATABASE_URL, fresh: true });
    cache = await startLocalCache({ redisUrl: REDIS_URL });
    if (!cache) throw new Error(REDIS_MISSING_MESSAGE); // redis-server vanished meanwhile
    mail = await startLocalMail();
    const env = await localEnvironment({
      databaseUrl: database.url,
      issuer: 'http://localhost.test',
      cache,
    });
    // Suites about limits turn them on for themselves (tests/e2e/rate-limits.test.ts).
    // A generous Redis timeout: on a loaded 2-core CI machine 50 ms can pass without an
    // outage, and a spurious bypass would make cache assertions flaky.
    project.provide('functionEnv', {
      ...env,
      // The functions' sender and SES; a suite that sends also sets the dummy credentials
      // (`mail.env`, or fauxqs's `queues.env`), as no other suite's environment has them.
      SES_ENDPOINT: mail.endpoint,
      MAIL_FROM: mail.env.MAIL_FROM as string,
      RATE_LIMITS: 'off',
      REDIS_TIMEOUT_MS: '1000',
    });
  } catch (error) {
    await teardown().catch(() => {});
    const detail = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error && error.stack ? `\n\n${error.stack}` : '';
    fail(`The test setup failed, so no test ran: ${detail}${stack}`);
  }
  return teardown;
}
