import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { hashPassword } from '../shared/auth/passwords.js';
import { getSql, type Sql } from '../shared/db/client.js';
import { type BenchCaller, createCallers } from './callers.js';
import { type BenchChild, type BridgeEndpoint, processCpuMs, startChild } from './children.js';
import { summarize } from './stats.js';

/**
 * The load test of `npm run bench` (skipped with `BENCH_LOAD=0`): the local stack over HTTP in
 * a process of its own (`load-stack-process.ts`, started like `npm run dev`), its Redis behind
 * the REST bridge in another one, driven by autocannon from the bench process. Rate limits
 * are on, as deployed; the load is spread so that no budget of `shared/rate-limits.ts` is
 * reached by the test itself:
 * - per user (300/min): the requests go round-robin over `USERS` users (PATCH takes the
 *   least recently patched of their notes), so each user sees 1/`USERS` of the load;
 * - per source IP (1,200/min; login 10/min): each connection comes from a loopback address
 *   of its own and moves to a new one every `perAddress` responses;
 * - login's failure budgets (per account): the logins go round-robin over `LOGIN_USERS`
 *   accounts with the right password, more than there are connections.
 * Any 429 still shows in the non-2xx column and the status breakdown.
 */

const USERS = 1000;
const LOGIN_USERS = 200;
const PASSWORD = 'correct horse battery';
const CONCURRENCY = [10, 50];
const SECONDS = 10;
const WARMUP_SECONDS = 2;

const require = createRequire(import.meta.url);

// autocannon 9 ships no types: the part of its API used here.
type Context = Record<string, unknown>;
interface LoadRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: LoadRequest, context: Context) => LoadRequest;
  onResponse?: (
    status: number,
    body: string,
    context: Context,
    headers: Record<string, string | string[]>,
  ) => void;
}
interface AutocannonClient {
  _connect(): void;
  _doRequest(): void;
  _destroyConnection(): void;
  on(event: 'response', listener: (status: number, bytes: number, ms: number) => void): void;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  requests: LoadRequest[];
  setupClient: (client: AutocannonClient) => void;
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
}
const autocannon = require('autocannon') as (
  options: AutocannonOptions,
) => Promise<AutocannonResult>;
const net = require('node:net') as { connect: (...args: unknown[]) => unknown };

let loopbackAddresses = 0;

/** 127.1.0.1, 127.1.0.2, …: a loopback address (all of 127/8 is local) no connection had. */
function nextLoopbackAddress(): string {
  const n = ++loopbackAddresses;
  return `127.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * An autocannon `setupClient` that reports every response to `record` and gives each
 * connection a source IP of its own (the gateway's `sourceIp` is the TCP peer), moving it to a
 * new one after `perAddress` responses. autocannon 9 has no local-address option (its client
 * calls `net.connect(port, host)`), so the client's connect runs with `net.connect` binding
 * the next address; and its `reconnectRate` leaves the response that triggers the reconnect
 * out of its counts, so the move is made here, before the next request. This relies on the
 * internals of autocannon 9's `Client` (`_connect`, `_doRequest`, `_destroyConnection`).
 */
function rotatingSourceAddress(
  perAddress: number,
  record: (status: number, ms: number) => void,
): (client: AutocannonClient) => void {
  return (client) => {
    const connect = client._connect;
    client._connect = function (this: AutocannonClient) {
      const original = net.connect;
      const localAddress = nextLoopbackAddress();
      net.connect = (port: unknown, host: unknown) => original({ port, host, localAddress });
      try {
        connect.call(this);
      } finally {
        net.connect = original;
      }
    };
    let responses = 0;
    let move = false;
    client.on('response', (status, _bytes, ms) => {
      record(status, ms);
      if (++responses % perAddress === 0) move = true;
    });
    const doRequest = client._doRequest;
    client._doRequest = function (this: AutocannonClient) {
      if (!move) return doRequest.call(this);
      move = false;
      this._destroyConnection();
      this._connect(); // sends the next request from the new address
    };
  };
}

/** One route under load: the request (built per request) and its per-IP spacing. */
interface Scenario {
  name: string;
  /** Responses per source address: below the route's per-IP budget for one minute. */
  perAddress: number;
  request: LoadRequest;
}

/** What the test runs against: a user with a note to read and a note to patch. */
interface LoadUser extends BenchCaller {
  noteId: string;
  patch: { id: string; version: number; token: string };
}

/** `i`, `i + 1`, … modulo `n`: round-robin over `n` things. */
function turns(n: number): () => number {
  let i = 0;
  return () => i++ % n;
}

function scenarios(users: LoadUser[], logins: string[]): Scenario[] {
  const auth = (user: BenchCaller) => ({ authorization: `Bearer ${user.token}` });
  const json = { 'content-type': 'application/json' };
  const nextGet = turns(users.length);
  const nextList = turns(users.length);
  const nextCreate = turns(users.length);
  const nextLogin = turns(logins.length);
  // PATCH: the note waiting longest; it comes back with its new version when the PATCH
  // answers 200 (a PATCH with a stale If-Match would be a 412), so no two connections patch
  // one note at once. Notes of requests cut off by the end of a run are not reused.
  const patchQueue = users.map((user) => user.patch);
  let patches = 0;
  return [
    {
      name: 'GET note',
      perAddress: 1000,
      request: {
        method: 'GET',
        setupRequest: (request) => {
          const user = users[nextGet()] as LoadUser;
          return { ...request, path: `/api/v1/notes/${user.noteId}`, headers: auth(user) };
        },
      },
    },
    {
      name: 'list notes',
      perAddress: 1000,
      request: {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          path: '/api/v1/notes',
          headers: auth(users[nextList()] as LoadUser),
        }),
      },
    },
    {
      name: 'create note',
      perAddress: 1000,
      request: {
        method: 'POST',
        path: '/api/v1/notes',
        setupRequest: (request) => ({
          ...request,
          headers: { ...auth(users[nextCreate()] as LoadUser), ...json },
          body: JSON.stringify({ title: 'load test', content: 'lorem ipsum '.repeat(20) }),
        }),
      },
    },
    {
      name: 'patch note',
      perAddress: 1000,
      request: {
        method: 'PATCH',
        setupRequest: (request, context) => {
          const note = patchQueue.shift();
          if (!note) throw new Error('no note left to patch');
          context.note = note;
          return {
            ...request,
            path: `/api/v1/notes/${note.id}`,
            headers: {
              authorization: `Bearer ${note.token}`,
              'if-match': `"${note.version}"`,
              ...json,
            },
            body: JSON.stringify({ title: `patched ${++patches}` }),
          };
        },
        onResponse: (status, _body, context, headers) => {
          const note = context.note as LoadUser['patch'];
          const etag = Object.entries(headers).find(([name]) => name.toLowerCase() === 'etag');
          const version = Number(String(etag?.[1] ?? '').replace(/\D/g, ''));
          if (status !== 200 || !version) return; // lost to the test; counted as non-2xx
          note.version = version;
          patchQueue.push(note);
        },
      },
    },
    {
      name: 'login',
      // The login policy allows 10 per IP per minute.
      perAddress: 9,
      request: {
        method: 'POST',
        path: '/api/v1/auth/login',
        setupRequest: (request) => ({
          ...request,
          headers: json,
          body: JSON.stringify({ email: logins[nextLogin()], password: PASSWORD }),
        }),
      },
    },
  ];
}

/**
 * Users, notes and login accounts for the test, straight into the database: `USERS` users
 * with two notes each and an access token, and `LOGIN_USERS` accounts sharing one argon2 hash
 * of `PASSWORD` (hashed once: the test measures login, not its set-up). Returns both.
 */
async function seed(sql: Sql): Promise<{ users: LoadUser[]; logins: string[] }> {
  const callers = await createCallers(sql, USERS);
  const notes = await sql<{ id: string; owner_id: string; version: number; title: string }[]>`
    INSERT INTO notes (owner_id, title, content)
    SELECT u.id, 'load ' || g, repeat('lorem ipsum ', 20)
    FROM unnest(${callers.map((c) => c.id)}::uuid[]) AS u(id), generate_series(1, 2) g
    RETURNING id, owner_id, version, title`;
  const byOwner = new Map<string, Record<string, { id: string; version: number }>>();
  for (const note of notes) {
    byOwner.set(note.owner_id, { ...byOwner.get(note.owner_id), [note.title]: note });
  }
  const users = callers.map((caller): LoadUser => {
    const own = byOwner.get(caller.id) ?? {};
    const read = own['load 1'] as { id: string };
    const patch = own['load 2'] as { id: string; version: number };
    return {
      ...caller,
      noteId: read.id,
      patch: { id: patch.id, version: patch.version, token: caller.token },
    };
  });
  const hash = await hashPassword(PASSWORD);
  const run = Date.now().toString(36);
  const accounts = await sql<{ email: string }[]>`
    INSERT INTO users (email, password_hash)
    SELECT 'login-' || ${run} || '-' || g || '@example.com', ${hash}
    FROM generate_series(1, ${LOGIN_USERS}) g
    RETURNING email`;
  await sql`ANALYZE users`;
  await sql`ANALYZE notes`;
  return { users, logins: accounts.map((a) => a.email) };
}

/**
 * Registers and logs in one user over HTTP, then reads their notes: the stack answers, and
 * with its rate limits on (the response carries `RateLimit-*`).
 */
async function smokeTest(url: string): Promise<void> {
  const email = `load-smoke-${Date.now().toString(36)}@example.com`;
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const registered = await post('/api/v1/auth/register', { email, password: PASSWORD });
  if (registered.status !== 201) {
    throw new Error(`register → ${registered.status} ${await registered.text()}`);
  }
  const login = await post('/api/v1/auth/login', { email, password: PASSWORD });
  if (login.status !== 200) throw new Error(`login → ${login.status} ${await login.text()}`);
  const { access_token } = (await login.json()) as { access_token: string };
  const notes = await fetch(`${url}/api/v1/notes`, {
    headers: { authorization: `Bearer ${access_token}` },
  });
  if (notes.status !== 200) throw new Error(`GET /api/v1/notes → ${notes.status}`);
  if (!notes.headers.get('ratelimit-limit')) {
    throw new Error('GET /api/v1/notes has no RateLimit-Limit header: the rate limits did not run');
  }
}

/** CPU used so far, in ms, by each process serving the requests (null: cannot be read). */
interface CpuReading {
  stack: number;
  bridge: number;
  redis: number;
  /** By PostgreSQL process id (backends and background workers). */
  postgres: Map<number, number> | null;
  client: number;
}

/** Reads the CPU counters of the stack, the bridge, redis-server, PostgreSQL and this process. */
async function readCpu(
  sql: Sql,
  stack: BenchChild<unknown>,
  bridge: BenchChild<unknown>,
  redis: Redis,
  localDatabase: boolean,
): Promise<CpuReading> {
  const [stackMs, bridgeMs, info] = await Promise.all([
    stack.cpuMs(),
    bridge.cpuMs(),
    redis.info('cpu'),
  ]);
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  let postgres: Map<number, number> | null = null;
  if (localDatabase) {
    postgres = new Map();
    for (const { pid } of await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity`) {
      const cpu = await processCpuMs(pid);
      if (cpu === null) {
        postgres = null;
        break;
      }
      postgres.set(pid, cpu);
    }
  }
  const { user, system } = process.cpuUsage();
  return {
    stack: stackMs,
    bridge: bridgeMs,
    redis: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000,
    postgres,
    client: (user + system) / 1000,
  };
}

/** CPU ms each process used between two readings (PostgreSQL: null when not readable). */
function cpuBetween(before: CpuReading, after: CpuReading) {
  let postgres: number | null = null;
  if (before.postgres && after.postgres) {
    // A backend that started during the run counts from 0; one that ended is not seen.
    postgres = 0;
    for (const [pid, ms] of after.postgres) postgres += ms - (before.postgres.get(pid) ?? 0);
  }
  return {
    stack: after.stack - before.stack,
    bridge: after.bridge - before.bridge,
    redis: after.redis - before.redis,
    postgres,
    client: after.client - before.client,
  };
}

interface Row {
  scenario: string;
  connections: number;
  requestsPerSecond: number;
  okPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  statuses: Map<number, number>;
  firstBodies: Map<number, string>;
  errors: number;
  cpuPerRequest: ReturnType<typeof cpuBetween>;
}

/** Runs `scenario` with `connections` for `seconds` and measures it. */
async function run(
  url: string,
  scenario: Scenario,
  connections: number,
  seconds: number,
  readCpuNow: () => Promise<CpuReading>,
): Promise<Row> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  // The first body of each non-2xx status, to say what went wrong.
  const firstBodies = new Map<number, string>();
  const request: LoadRequest = {
    ...scenario.request,
    onResponse: (status, body, context, headers) => {
      if ((status < 200 || status > 299) && !firstBodies.has(status)) {
        firstBodies.set(status, String(body).slice(0, 200));
      }
      scenario.request.onResponse?.(status, body, context, headers);
    },
  };
  const before = await readCpuNow();
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [request],
    setupClient: rotatingSourceAddress(scenario.perAddress, (status, ms) => {
      latencies.push(ms);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }),
  });
  const used = cpuBetween(before, await readCpuNow());
  const count = latencies.length;
  const perRequest = (ms: number | null) => (ms === null || count === 0 ? null : ms / count);
  const { median, p99 } = summarize(latencies);
  let non2xx = 0;
  for (const [status, n] of statuses) if (status < 200 || status > 299) non2xx += n;
  return {
    scenario: scenario.name,
    connections,
    requestsPerSecond: count / result.duration,
    okPerSecond: (count - non2xx) / result.duration,
    p50: median,
    p99,
    non2xx,
    statuses,
    firstBodies,
    errors: result.errors,
    cpuPerRequest: {
      stack: perRequest(used.stack) ?? Number.NaN,
      bridge: perRequest(used.bridge) ?? Number.NaN,
      redis: perRequest(used.redis) ?? Number.NaN,
      postgres: perRequest(used.postgres),
      client: perRequest(used.client) ?? Number.NaN,
    },
  };
}

function printTable(rows: Row[]): void {
  const n = (value: number | null, digits: number, width: number) =>
    (value === null || Number.isNaN(value) ? 'n/a' : value.toFixed(digits)).padStart(width);
  console.log(
    `\n  ${'route'.padEnd(12)} ${'C'.padStart(3)} ${'req/s'.padStart(8)} ${'2xx/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'non-2xx'.padStart(8)}   CPU ms/request: ${'stack'.padStart(6)} ${'bridge'.padStart(6)} ${'redis'.padStart(6)} ${'pg'.padStart(6)} ${'server'.padStart(7)} ${'client'.padStart(7)}`,
  );
  for (const row of rows) {
    const cpu = row.cpuPerRequest;
    const server = cpu.stack + cpu.bridge + cpu.redis + (cpu.postgres ?? 0);
    console.log(
      `  ${row.scenario.padEnd(12)} ${String(row.connections).padStart(3)} ${n(row.requestsPerSecond, 0, 8)} ${n(row.okPerSecond, 0, 8)} ${n(row.p50, 2, 8)} ${n(row.p99, 2, 8)} ${String(row.non2xx).padStart(8)}                   ${n(cpu.stack, 3, 6)} ${n(cpu.bridge, 3, 6)} ${n(cpu.redis, 3, 6)} ${n(cpu.postgres, 3, 6)} ${n(server, 3, 7)} ${n(cpu.client, 3, 7)}`,
    );
  }
  for (const row of rows) {
    if (row.non2xx === 0 && row.errors === 0) continue;
    const codes = [...row.statuses]
      .filter(([status]) => status < 200 || status > 299)
      .map(([status, count]) => `${status}: ${count} (first: ${row.firstBodies.get(status)})`)
      .join(', ');
    console.log(
      `  ${row.scenario} C=${row.connections}: non-2xx ${codes || 'none'}; connection errors/timeouts ${row.errors}`,
    );
  }
  console.log(
    '  stack: the gateway, the functions and SQS (one process, as npm run dev); bridge: the REST bridge process; redis: redis-server (INFO cpu); pg: PostgreSQL backends (/proc); server: their sum; client: autocannon in the bench process. All share the same cores.',
  );
}

/**
 * The load test (see the top of this file). `bridge` is the bench's REST bridge process in
 * front of the Redis at `redisUrl`; the functions' environment (database, keys, Redis) is the
 * bench's. `localDatabase`: PostgreSQL runs on this host, so its CPU can be read from /proc.
 * Prints one table: per route and concurrency, req/s, p50 and p99 latency (ms), non-2xx
 * responses and the CPU each process spent per request.
 */
export async function benchLoad(options: {
  bridge: BenchChild<BridgeEndpoint>;
  redisUrl: string;
  localDatabase: boolean;
}): Promise<void> {
  console.log(
    `\n## Load test: the local stack over HTTP, rate limits on (autocannon, ${SECONDS} s per run, C = ${CONCURRENCY.join(', ')})\n`,
  );
  const sql = getSql();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DB_POOL_MAX: '10', // as npm run dev: one process serves every connection
    POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOAD_LOG_LEVEL ?? 'WARN',
  };
  // The bench's own settings (its timeouts for seeding, the invoke store of its process).
  for (const name of [
    'RATE_LIMITS',
    'DB_STATEMENT_TIMEOUT_MS',
    'REDIS_RETRY_AFTER_MS',
    'AWS_LAMBDA_MAX_CONCURRENCY',
  ]) {
    delete env[name];
  }
  const stack = await startChild<{ url: string }>('./load-stack-process.ts', env);
  const redis = new Redis(options.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
  try {
    const { url } = stack.ready;
    const seedStart = Date.now();
    const { users, logins } = await seed(sql);
    await smokeTest(url);
    console.log(
      `  stack at ${url} (pid ${stack.pid}), bridge pid ${options.bridge.pid}; seeded ${users.length} users with 2 notes each and ${logins.length} login accounts in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`,
    );
    const readCpuNow = () => readCpu(sql, stack, options.bridge, redis, options.localDatabase);
    const rows: Row[] = [];
    for (const scenario of scenarios(users, logins)) {
      await run(url, scenario, CONCURRENCY[0] as number, WARMUP_SECONDS, readCpuNow);
      for (const connections of CONCURRENCY) {
        const row = await run(url, scenario, connections, SECONDS, readCpuNow);
        rows.push(row);
        console.log(
          `  ${scenario.name} C=${connections}: ${row.requestsPerSecond.toFixed(0)} req/s`,
        );
      }
      const output = stack.takeOutput();
      if (output.count) {
        console.log(
          `  the stack wrote ${output.count} log lines during ${scenario.name}; the last: ${(output.last.at(-1) ?? '').slice(0, 300)}`,
        );
      }
    }
    printTable(rows);
  } finally {
    redis.disconnect();
    await stack.stop();
  }
}
