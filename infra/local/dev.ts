/**
 * `npm run dev`: the local cloud in one process — PostgreSQL (embedded, or DATABASE_URL),
 * migrated on start, Redis (a `redis-server` of its own, or REDIS_URL; without either it runs
 * with caching and rate limits off), SQS (fauxqs) with the workers, S3 (the files bucket in
 * fauxqs, behind a proxy that verifies presigned URLs), SES (aws-ses-v2-local on SES_PORT,
 * 8005), and the API Gateway
 * emulation serving every route of the route table. Data is kept in `.local/` (or
 * `LOCAL_STATE_DIR`) between runs; `npm run dev -- --reset` starts clean.
 *
 * Startup never leaves anything behind: a failure (port taken, bad configuration, a
 * dependency that does not start) prints one message, stops what was already started and
 * exits 1; Ctrl-C or SIGTERM, during startup or later, stops everything and exits.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { ConfigError, describeEnvironmentProblems, getConfig } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { outboxRelay, retention } from '../../shared/queue/queues.js';
import { startGateway } from './gateway.js';
import { REDIS_SERVER_HINT } from './redis-server.js';
import { startLocalFiles } from './s3.js';
import { DEFAULT_SES_PORT, startLocalMail } from './ses.js';
import { startEventSourceMappings, startLocalQueues } from './sqs.js';
import { localEnvironment, startLocalCache, startLocalDatabase } from './stack.js';
import { KEYS_FILE, PG_DATA_DIR, readRunningStack, STACK_FILE, STATE_DIR } from './state.js';

/** A startup failure whose message is all the user needs (no stack trace). */
class StartupError extends Error {}

const stops: Array<() => Promise<void>> = [];
let inFlight: Promise<unknown> = Promise.resolve();
let stopping = false;

/**
 * Runs one startup step and registers how to undo it. When a stop was requested meanwhile
 * (Ctrl-C during startup) the step's result is still registered, so it is stopped too, and
 * startup goes no further.
 */
async function step<T>(start: () => Promise<T>, stop?: (value: T) => Promise<void>): Promise<T> {
  const run = (async () => {
    const value = await start();
    if (stop) stops.push(() => stop(value));
    return value;
  })();
  inFlight = run.catch(() => {});
  const value = await run;
  if (stopping) await new Promise<never>(() => {}); // shutdown() takes over
  return value;
}

/** Stops everything started so far, newest first, then exits with `code`. */
async function shutdown(code: number): Promise<never> {
  stopping = true;
  // Whatever hangs, the process still ends (the exit reapers stop PostgreSQL and Redis).
  setTimeout(() => process.exit(code), 15_000).unref();
  rmSync(STACK_FILE, { force: true });
  await inFlight;
  for (const stop of stops.splice(0).reverse()) {
    await stop().catch((error) => console.error('while stopping:', messageOf(error)));
  }
  process.exit(code);
}

function onSignal(): void {
  if (stopping) process.exit(1); // a second Ctrl-C: no more waiting
  void shutdown(0);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal); // the terminal closed
// `npm run dev` runs us under `sh -c`: a SIGTERM sent to npm alone ends npm and sh, not us.
// Orphaned (our parent changed), stop as if signalled rather than run on unseen.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && !stopping) void shutdown(0);
}, 1000).unref();

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The one line for a taken gateway port, with the way out. */
function portTakenMessage(port: number): string {
  const other = port < 65535 ? port + 1 : 3000;
  return `Port ${port} is already in use (another npm run dev, or another program). Pick another: PORT=${other} npm run dev`;
}

/** `error` as the one-line port message when it is a taken port, else as it is. */
function explainListenError(error: unknown, port: number): unknown {
  return (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
    ? new StartupError(portTakenMessage(port))
    : error;
}

/** Rejects (see `explainListenError`) when `port` cannot be bound on 127.0.0.1. */
function checkPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(explainListenError(error, port)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** The stack's own variables (the functions' ones are checked by `getConfig()`). */
function readOwnEnvironment(): { port: number; sesPort: number } {
  const problems: Array<{ name: string; message: string }> = [];
  const portOf = (name: string, fallback: number) => {
    const raw = process.env[name] ?? String(fallback);
    const value = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= 0 && value <= 65535)) {
      problems.push({ name, message: 'must be a TCP port number, 0-65535 (0: any free port)' });
    }
    return value;
  };
  const port = portOf('PORT', 3000);
  // PORT=0 (any free port, as the tests run it): the emulator takes a free port too.
  const sesPort = portOf('SES_PORT', port === 0 ? 0 : DEFAULT_SES_PORT);
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push({ name: 'DATABASE_URL', message: 'must be a postgres:// or postgresql:// URL' });
  }
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push({ name: 'REDIS_URL', message: 'must be a redis:// or rediss:// URL' });
  }
  if (problems.length) throw new StartupError(describeEnvironmentProblems(problems));
  return { port, sesPort };
}

async function main(): Promise<void> {
  const reset = process.argv.includes('--reset');
  const { port, sesPort } = readOwnEnvironment();

  const running = readRunningStack();
  if (running) {
    throw new StartupError(
      `A local stack is already running at ${running.url} (pid ${running.pid}, see ${STACK_FILE}). Stop it first.`,
    );
  }
  // Before starting anything: a taken port fails in a moment, not after PostgreSQL started.
  if (port !== 0) await checkPortFree(port);
  if (sesPort !== 0) {
    await checkPortFree(sesPort).catch(() =>
      Promise.reject(
        new StartupError(
          `SES_PORT ${sesPort} is already in use (another npm run dev, or another program). Pick another: SES_PORT=${sesPort + 1} npm run dev`,
        ),
      ),
    );
  }
  if (reset) {
    await rm(STATE_DIR, { recursive: true, force: true });
    console.log(`Reset: removed ${STATE_DIR} (database and signing key).`);
  }

  const database = await step(
    () => startLocalDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: PG_DATA_DIR }),
    async (started) => {
      const { closeSql } = await import('../../shared/db/client.js');
      await closeSql();
      await started.stop();
    },
  );
  const cache = await step(
    () => startLocalCache({ redisUrl: process.env.REDIS_URL }),
    async (started) => started?.stop(),
  );
  const env = await step(() =>
    localEnvironment({
      databaseUrl: database.url,
      issuer: `http://localhost:${port}`,
      keysFile: KEYS_FILE,
      cache,
    }),
  );
  const queues = await step(
    () => startLocalQueues(),
    (started) => started.stop(),
  );
  Object.assign(env, queues.env);
  const files = await step(
    () => startLocalFiles(queues),
    (started) => started.stop(),
  );
  Object.assign(env, files.env);
  const mail = await step(
    () =>
      startLocalMail({ port: sesPort, from: process.env.MAIL_FROM }).catch(
        (error: NodeJS.ErrnoException) =>
          Promise.reject(error.code === 'EADDRINUSE' ? new StartupError(error.message) : error),
      ),
    (started) => started.stop(),
  );
  Object.assign(env, mail.env);
  Object.assign(process.env, env);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  // The functions' logger was created when its module was imported, above, with the level
  // of that moment: give it the level now set.
  logger.setLogLevel(process.env.POWERTOOLS_LOG_LEVEL as Parameters<typeof logger.setLogLevel>[0]);
  // The functions' configuration, checked now rather than at the first request.
  getConfig();
  await step(
    async () =>
      startEventSourceMappings(queues, {
        onError: (error) => console.error('worker:', messageOf(error)),
      }),
    (started) => started.stop(),
  );

  const gateway = await step(
    () =>
      startGateway({
        port,
        log: (entry) =>
          console.log(JSON.stringify({ level: 'INFO', message: 'request', ...entry })),
      }).catch((error) => Promise.reject(explainListenError(error, port))),
    (started) => started.close(),
  );
  writeFileSync(STACK_FILE, JSON.stringify({ pid: process.pid, url: gateway.url, env }, null, 2), {
    mode: 0o600,
  });

  const base = `http://localhost:${gateway.port}`;
  console.log(`
Local stack is up (${database.embedded ? `embedded PostgreSQL in ${PG_DATA_DIR}` : 'DATABASE_URL'}):
  API       ${base}/api/v1
  Docs      ${base}/docs   (ReDoc: ${base}/redoc, OpenAPI: ${base}/openapi.json)
  Health    ${base}/health
  JWKS      ${base}/.well-known/jwks.json
  SQS       ${queues.endpoint} (fauxqs; queues: ${Object.keys(queues.urls).join(', ')})
  S3        ${files.endpoint} (fauxqs S3 behind a presigned-URL check; bucket: ${files.bucket})
  E-mail    ${mail.endpoint}   (aws-ses-v2-local: the sent mail; as JSON: ${mail.endpoint}/store; from ${mail.env.MAIL_FROM})
  Schedules ${outboxRelay.function} every ${outboxRelay.localIntervalSeconds} s, ${retention.function} every ${retention.localIntervalSeconds} s
  Redis     ${
    cache
      ? `${cache.redisUrl} via the Upstash REST bridge ${cache.restUrl}${
          process.env.RATE_LIMITS === 'off' ? ' (rate limits off: RATE_LIMITS=off)' : ''
        }`
      : `none: caching and rate limits are OFF (no REDIS_URL, no redis-server on the PATH: ${REDIS_SERVER_HINT})`
  }
Ctrl-C stops it; data stays in ${STATE_DIR} (npm run dev -- --reset starts clean).
`);
}

try {
  await main();
} catch (error) {
  if (!stopping) {
    if (error instanceof StartupError || error instanceof ConfigError) {
      console.error(error.message);
    } else {
      console.error('The local stack did not start:', error);
    }
    await shutdown(1);
  }
}
