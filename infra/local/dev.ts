/**
 * `npm run dev`: the local cloud in one process — PostgreSQL (embedded, or DATABASE_URL),
 * migrated on start, and the API Gateway emulation serving every route of the route table.
 * Data is kept in `.local/` between runs; `npm run dev -- --reset` starts clean.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { outboxRelay, retention } from '../../shared/queue/queues.js';
import { startGateway } from './gateway.js';
import { startEventSourceMappings, startLocalQueues } from './sqs.js';
import { localEnvironment, startLocalCache, startLocalDatabase } from './stack.js';
import { KEYS_FILE, PG_DATA_DIR, readRunningStack, STACK_FILE, STATE_DIR } from './state.js';

const reset = process.argv.includes('--reset');
const port = Number(process.env.PORT ?? 3000);

if (readRunningStack()) {
  console.error(`A local stack is already running (see ${STACK_FILE}). Stop it first.`);
  process.exit(1);
}
if (reset) {
  await rm(STATE_DIR, { recursive: true, force: true });
  console.log('Reset: removed .local/ (database and signing key).');
}

const database = await startLocalDatabase({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: PG_DATA_DIR,
});
const cache = await startLocalCache({ redisUrl: process.env.REDIS_URL });
const env = await localEnvironment({
  databaseUrl: database.url,
  issuer: `http://localhost:${port}`,
  keysFile: KEYS_FILE,
  cache,
});
const queues = await startLocalQueues();
Object.assign(env, queues.env);
Object.assign(process.env, env);
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const mappings = startEventSourceMappings(queues, {
  onError: (error) => console.error('worker:', error instanceof Error ? error.message : error),
});

const gateway = await startGateway({
  port,
  log: (entry) => console.log(JSON.stringify({ level: 'INFO', message: 'request', ...entry })),
});
writeFileSync(STACK_FILE, JSON.stringify({ pid: process.pid, url: gateway.url, env }, null, 2), {
  mode: 0o600,
});

const base = `http://localhost:${gateway.port}`;
console.log(`
Local stack is up (${database.embedded ? 'embedded PostgreSQL in .local/pg' : 'DATABASE_URL'}):
  API       ${base}/api/v1
  Docs      ${base}/docs   (ReDoc: ${base}/redoc, OpenAPI: ${base}/openapi.json)
  Health    ${base}/health
  JWKS      ${base}/.well-known/jwks.json
  SQS       ${queues.endpoint} (fauxqs; queues: ${Object.keys(queues.urls).join(', ')})
  Schedules ${outboxRelay.function} every ${outboxRelay.localIntervalSeconds} s, ${retention.function} every ${retention.localIntervalSeconds} s
  Redis     ${
    cache
      ? `${cache.redisUrl} via the Upstash REST bridge ${cache.restUrl}${
          process.env.RATE_LIMITS === 'off' ? ' (rate limits off: RATE_LIMITS=off)' : ''
        }`
      : 'none found (no REDIS_URL, no redis-server): caching and rate limits are OFF'
  }
Ctrl-C stops it; data stays in .local/ (npm run dev -- --reset starts clean).
`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  rmSync(STACK_FILE, { force: true });
  await gateway.close();
  await mappings.stop();
  await queues.stop();
  await cache?.stop();
  const { closeSql } = await import('../../shared/db/client.js');
  await closeSql();
  await database.stop();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
