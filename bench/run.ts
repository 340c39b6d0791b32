/**
 * `npm run bench`: performance budgets of API.md, measured in one run on a real PostgreSQL
 * and Redis (started here, or DATABASE_URL / REDIS_URL), printed as ratios, then a load test
 * of the local stack over HTTP (`load.ts`; `BENCH_LOAD=0` skips it). Not part of `npm test`.
 * `BENCH_OUT=<file>` also writes the summary as JSON (keep it out of git);
 * `BENCH_LOG_LEVEL=ERROR` shows the functions' logs (default SILENT).
 *
 * As in AWS, the functions reach Redis over HTTP in another process: the Upstash REST bridge
 * runs in a child process (`redis-bridge-process.ts`). Rate limits are on; the bench spreads
 * its requests over `CALLERS` users, each with its own source IP, so that no budget is
 * reached by the bench itself (`callers.ts`).
 */
import { writeFileSync } from 'node:fs';
import {
  hasRedisServer,
  REDIS_SERVER_HINT,
  startRedisServer,
} from '../infra/local/redis-server.js';
import { startLocalFiles } from '../infra/local/s3.js';
import { startEventSourceMappings, startLocalQueues } from '../infra/local/sqs.js';
import { startBridgeProcess } from './children.js';
import { ms, summarize, time, timePair, type Verdict } from './stats.js';

// Before anything creates the functions' logger (it reads its level once, when created): the
// functions' modules and those that import them are imported below, after this line.
process.env.POWERTOOLS_LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'SILENT';
const { localEnvironment, startLocalDatabase } = await import('../infra/local/stack.js');
const { benchBundles } = await import('./bundles.js');

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1000);
/**
 * Users (each with its own source IP) the timed requests take turns with. Every user and IP
 * then makes about 190 requests in the whole bench, well below the 300/min per user and
 * 1,200/min per IP, whatever the speed.
 */
const CALLERS = 64;
const started = Date.now();
const verdicts: Verdict[] = [];
const report = (name: string, ratio: number, budget: string, pass: boolean) => {
  verdicts.push({ name, ratio, budget, pass });
  console.log(`→ ${name}: ${ratio.toFixed(2)}× (budget ${budget}) ${pass ? 'PASS' : 'FAIL'}`);
};
const line = (label: string, samples: number[]) => {
  const s = summarize(samples);
  console.log(`  ${label.padEnd(44)} median ${ms(s.median)}  p99 ${ms(s.p99)}  (n=${s.n})`);
  return s;
};

await benchBundles(report);

if (!process.env.REDIS_URL && !hasRedisServer()) {
  throw new Error(`The bench needs Redis: ${REDIS_SERVER_HINT}.`);
}
const database = await startLocalDatabase({ databaseUrl: process.env.DATABASE_URL, fresh: true });
const redisServer = process.env.REDIS_URL ? undefined : await startRedisServer();
const redisUrl = process.env.REDIS_URL ?? (redisServer?.url as string);
const bridge = await startBridgeProcess(redisUrl);
const queues = await startLocalQueues();
// The local S3 (in front of fauxqs's) for the import bench's upload and its worker's reads.
const files = await startLocalFiles(queues);
Object.assign(
  process.env,
  await localEnvironment({
    databaseUrl: database.url,
    issuer: 'http://bench.local',
    cache: {
      redisUrl,
      restUrl: bridge.ready.url,
      restToken: bridge.ready.token,
      stop: () => bridge.stop(),
    },
  }),
  queues.env,
  files.env,
  {
    RATE_LIMITS: 'on',
    DB_POOL_MAX: '1',
    REDIS_RETRY_AFTER_MS: '200',
    // Seeding a million rows and VACUUM outlast the request path's 1.5 s statement timeout.
    DB_STATEMENT_TIMEOUT_MS: '3600000',
  },
);

const { getSql, closeSql } = await import('../shared/db/client.js');
const { verifyAccessToken } = await import('../shared/auth/tokens.js');
const { isAccessTokenRevoked } = await import('../shared/auth/revocation.js');
const notesRepository = await import('../shared/notes/repository.js');
const { ListNotesQuery } = await import('../shared/notes/schemas.js');
const { bumpCacheVersion, readCacheVersion } = await import('../shared/cache/cache-aside.js');
const { makeInvoker, roundRobin } = await import('./invoke.js');
const { cpuLine, measureInInstance } = await import('./instance.js');
const { createCallers } = await import('./callers.js');
const sql = getSql();

const callers = await createCallers(sql, CALLERS);
const user = callers[0] as (typeof callers)[number];
const invokers = new Map(callers.map((caller) => [caller.id, makeInvoker(caller)]));
const invokerOf = (ownerId: string) => invokers.get(ownerId) as ReturnType<typeof makeInvoker>;
/** The same request by every caller, in turn (`route(caller)` gives its invocation). */
const byEveryCaller = async <T>(route: (caller: (typeof callers)[number]) => Promise<T>) =>
  Promise.all(callers.map(route));

// 1,000 notes per caller for the cache bench (distinct created_at), then 10,100 more of the
// first caller's for the depth bench.
await sql`
  INSERT INTO notes (owner_id, title, content, created_at, updated_at)
  SELECT u.id, 'note ' || g, repeat('lorem ipsum ', 20),
         now() - make_interval(secs => g), now() - make_interval(secs => g)
  FROM unnest(${callers.map((c) => c.id)}::uuid[]) AS u(id), generate_series(1, 1000) g`;
await sql`ANALYZE notes`;
const firstNotes = await sql<{ owner_id: string; id: string }[]>`
  SELECT DISTINCT ON (owner_id) owner_id, id FROM notes
  WHERE owner_id = ANY(${callers.map((c) => c.id)}::uuid[]) ORDER BY owner_id, id`;
const noteOf = new Map(firstNotes.map((n) => [n.owner_id, n.id]));

console.log(
  `\n## Handler overhead: GET /api/v1/notes/{id} vs the bare query (${ITERATIONS} each, alternating, after ${2 * ITERATIONS} untimed, in a process playing one Lambda instance; ${CALLERS} callers in turn, rate limits on)\n`,
);
const instance = await measureInInstance({
  route: 'getNote',
  calls: callers.map((c) => {
    const id = noteOf.get(c.id) as string;
    return {
      path: `/api/v1/notes/${id}`,
      pathParameters: { id },
      token: c.token,
      userId: c.id,
      sourceIp: c.sourceIp,
      bareParams: [id, c.id],
    };
  }),
  bare: `SELECT id, owner_id, title, content, version, created_at, updated_at, archived_at
         FROM notes WHERE id = $1 AND owner_id = $2`,
  iterations: ITERATIONS,
  warmup: 2 * ITERATIONS,
  floorIterations: Math.ceil(ITERATIONS / 2),
});
const handlerStats = line('handler (JWT, limits, deny list, validation)', instance.handler);
const bareStats = line('bare postgres.js query', instance.bare);
console.log('  where the handler time goes (medians, same run):');
const floorStats = line('  bare query + the Redis pipeline, concurrently', instance.floor);
const floorBare = line('  bare query (alternating with the line above)', instance.floorBare);
console.log(
  `    floor of the design (no middleware, handler or validation): ${(floorStats.median / floorBare.median).toFixed(2)}× the bare query`,
);
console.log(cpuLine(instance.cpu));
line('  ES256 verification (jose)', await time(() => verifyAccessToken(user.token), ITERATIONS));
line(
  '  deny-list lookup (Redis over the REST bridge)',
  await time(() => isAccessTokenRevoked('bench'), ITERATIONS),
);
const overhead = handlerStats.median / bareStats.median;
report('handler overhead, GET note', overhead, '≤ 2.0×', overhead <= 2.0);

console.log(
  `\n## Notes list cache: GET /api/v1/notes?limit=100 over 1,000 notes (${ITERATIONS} each, ${CALLERS} callers in turn)\n`,
);
const lists = await byEveryCaller((c) =>
  invokerOf(c.id)('listNotes', '/api/v1/notes', 'limit=100'),
);
const list = roundRobin(lists);
// The warm-up (one call per caller) fills each caller's page.
const hits = await time(list, ITERATIONS, CALLERS);
// A miss: a write bumped the owner's version in PostgreSQL (what the notes trigger does).
const miss = roundRobin(
  callers.map((c, i) => async () => {
    await bumpCacheVersion(sql, `notes:${c.id}`);
    return (lists[i] as () => Promise<unknown>)();
  }),
);
const misses = await time(miss, ITERATIONS);
const hitStats = line('cache hit (version from PostgreSQL + GET)', hits);
const missStats = line('cache miss (version + GET + page query + SET)', misses);
line(
  '  of which the version lookup (PostgreSQL, by key)',
  await time(() => readCacheVersion(`notes:${user.id}`), ITERATIONS),
);
const speedup = missStats.median / hitStats.median;
report('cache hit speed-up (miss ÷ hit)', speedup, '> 1.0×', speedup > 1);

// A realistic mix: 90% list reads, 10% note writes, over many owners picked at random (a
// fixed seed, so runs compare), reads mostly of the first page. Each write moves only its
// owner to a new version, so the hit ratio is about how many reads a page gets between two
// writes of its owner.
const MIX_OWNERS = 50;
const MIX_OPERATIONS = Math.max(2000, ITERATIONS * 2);
console.log(
  `\n## Cache under a mix: ${MIX_OPERATIONS} requests, 90% GET /api/v1/notes / 10% writes, ${MIX_OWNERS} owners\n`,
);
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const owners = await createCallers(sql, MIX_OWNERS);
await sql`
  INSERT INTO notes (owner_id, title, content)
  SELECT u.id, 'mix ' || g, repeat('lorem ipsum ', 20)
  FROM unnest(${owners.map((o) => o.id)}::uuid[]) AS u(id), generate_series(1, 40) g`;
const mixClients = await Promise.all(
  owners.map(async (owner) => {
    const mixInvoker = makeInvoker(owner);
    return {
      reads: [
        await mixInvoker('listNotes', '/api/v1/notes'),
        await mixInvoker('listNotes', '/api/v1/notes', 'limit=100'),
        await mixInvoker('listNotes', '/api/v1/notes', 'sort=updated_at'),
      ],
      write: await mixInvoker('createNote', '/api/v1/notes', '', { title: 'mix write' }),
    };
  }),
);
const served = { hit: 0, miss: 0, bypass: 0 };
const mixTimes: Record<keyof typeof served, number[]> = { hit: [], miss: [], bypass: [] };
for (let i = 0; i < MIX_OPERATIONS; i++) {
  const client = mixClients[Math.floor(random() * MIX_OWNERS)] as (typeof mixClients)[number];
  if (random() < 0.1) {
    await client.write();
    continue;
  }
  // 80% the default first page, 10% a bigger page, 10% another order.
  const pick = random();
  const read = client.reads[pick < 0.8 ? 0 : pick < 0.9 ? 1 : 2] as () => Promise<{
    headers: Record<string, string>;
  }>;
  const t = performance.now();
  const result = await read();
  const status = result.headers['X-Cache'] as keyof typeof served;
  served[status] += 1;
  mixTimes[status].push(performance.now() - t);
}
const reads = served.hit + served.miss + served.bypass;
console.log(
  `  reads ${reads}: hit ${served.hit}, miss ${served.miss}, bypass ${served.bypass}; writes ${MIX_OPERATIONS - reads}`,
);
line('read served from the cache (hit)', mixTimes.hit);
line('read after a write or a new query (miss)', mixTimes.miss);
const hitRatio = served.hit / reads;
console.log(`  hit ratio ${(hitRatio * 100).toFixed(1)}% (hit ÷ reads)`);
report('cache hit ratio under the 90/10 mix', hitRatio, 'reported', true);

console.log('\n## Redis outage: the same list request with Redis frozen (SIGSTOP)\n');
if (redisServer) {
  redisServer.pause();
  const outage = await time(list, 200, 0);
  redisServer.resume();
  line('Redis frozen (timeouts, then circuit open)', outage);
  const worst = Math.max(...outage) - missStats.median;
  console.log(`  worst added latency vs a miss with Redis up: ${ms(worst)} (budget ≤ 100 ms)`);
  report('Redis outage, worst added latency (ms ÷ 100)', worst / 100, '≤ 1.0', worst <= 100);
} else {
  console.log(
    '  skipped: REDIS_URL is not a redis-server the bench started, so it cannot freeze it',
  );
}

console.log(`\n## Keyset pagination: first page vs depth 10,000 (limit 20, ${ITERATIONS} each)\n`);
await sql`
  INSERT INTO notes (owner_id, title, content, created_at, updated_at)
  SELECT ${user.id}, 'deep ' || g, '', now() - make_interval(days => 1, secs => g), now()
  FROM generate_series(1, 10100) g`;
await sql`ANALYZE notes`;
const query = ListNotesQuery.parse({ limit: '20' });
const [deep] = await sql<{ sort_key: string; id: string }[]>`
  SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sort_key, id
  FROM notes WHERE owner_id = ${user.id} AND archived_at IS NULL
  ORDER BY created_at DESC, id DESC OFFSET 9999 LIMIT 1`;
const position = {
  value: (deep as { sort_key: string }).sort_key,
  id: (deep as { id: string }).id,
};
const [firstPage, deepPage] = await timePair(
  () => notesRepository.listNotes(user.id, query, null),
  () => notesRepository.listNotes(user.id, query, position),
  ITERATIONS,
);
const firstStats = line('first page', firstPage);
const deepStats = line('page after 10,000 rows (keyset)', deepPage);
const depth = deepStats.median / firstStats.median;
report('keyset depth 10,000 ÷ first page', depth, '≤ 1.5×', depth <= 1.5);

console.log('\n## Outbox: archive with its audit event vs the same change without it\n');
// The workers' failures are counted and shown: a worker that throws leaves its batch to SQS,
// which redelivers it only after the queue's visibility timeout.
const workerErrors: unknown[] = [];
const mappings = startEventSourceMappings(queues, { onError: (error) => workerErrors.push(error) });
const rows = await sql<{ id: string; owner_id: string }[]>`
  SELECT id, owner_id FROM notes
  WHERE owner_id = ANY(${callers.map((c) => c.id)}::uuid[]) AND archived_at IS NULL
  ORDER BY id LIMIT 1000`;
const archiveTimes: number[] = [];
const baseline: number[] = [];
const handlerStart = Date.now();
for (const [i, row] of rows.entries()) {
  if (i % 2 === 0) {
    const archive = await invokerOf(row.owner_id)('archiveNote', `/api/v1/notes/${row.id}`);
    const t = performance.now();
    await archive();
    archiveTimes.push(performance.now() - t);
  } else {
    // The same request path minus the outbox: the UPDATE (its trigger bumps the cache version).
    const t = performance.now();
    await notesRepository.archiveNote(row.owner_id, row.id);
    baseline.push(performance.now() - t);
  }
}
const withOutbox = line('archive through the handler (tx + outbox + SQS send)', archiveTimes);
const without = line('UPDATE (with its cache version bump) only', baseline);
report(
  'outbox cost on archive (with ÷ without)',
  withOutbox.median / without.median,
  'reported',
  true,
);
const events = archiveTimes.length;
// Wait for every event, but never forever: a lost event is reported, not a hung bench.
const deliveryDeadline = Date.now() + 120_000;
let delivered = 0;
while (delivered < events && Date.now() < deliveryDeadline) {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM audit_log WHERE action = 'note.archived'`;
  delivered = row?.n ?? 0;
  if (delivered < events) await new Promise((resolve) => setTimeout(resolve, 50));
}
if (delivered < events) {
  const [pending] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`;
  console.log(
    `  only ${delivered} of ${events} events reached audit_log within 120 s (${pending?.n ?? 0} outbox rows unpublished)`,
  );
}
if (workerErrors.length) {
  const first = workerErrors[0];
  console.log(
    `  the event source mapping reported ${workerErrors.length} worker errors; the first: ${first instanceof Error ? first.message : String(first)}`,
  );
}
report(
  'archive events that reached the audit log (of all)',
  delivered / events,
  '= 1.0',
  delivered === events,
);
const seconds = (Date.now() - handlerStart) / 1000;
console.log(
  `  ${events} events from request to audit_log row in ${seconds.toFixed(1)} s: ${(events / seconds).toFixed(0)} events/s (requests issued serially, one worker)`,
);
await mappings.stop();

const { benchInventory } = await import('./inventory.js');
verdicts.push(...(await benchInventory(ITERATIONS)));
const { benchImport } = await import('./import.js');
verdicts.push(...(await benchImport(queues)));

const { benchOrders } = await import('./orders.js');
verdicts.push(...(await benchOrders(ITERATIONS)));
verdicts.push(...(await (await import('./api-keys.js')).benchApiKeys(ITERATIONS)));

if (process.env.BENCH_LOAD !== '0') {
  const { benchLoad } = await import('./load.js');
  await benchLoad({ bridge, redisUrl, localDatabase: database.embedded });
}

console.log('\n## Summary\n');
for (const v of verdicts)
  console.log(
    `${v.pass === null ? 'INFO' : v.pass ? 'PASS' : 'FAIL'}  ${v.name.padEnd(48)} ${v.ratio.toFixed(2).padStart(7)}  (${v.budget})`,
  );
console.log(`\nbench ran ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(verdicts, null, 2));

await closeSql();
await files.stop();
await queues.stop();
await bridge.stop();
await redisServer?.stop();
await database.stop();
process.exit(0);
