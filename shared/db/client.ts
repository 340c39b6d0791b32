import { AsyncLocalStorage } from 'node:async_hooks';
import postgres from 'postgres';
import { ConfigError, getConfig } from '../config.js';
import { logger } from '../logger.js';
import {
  closeWhenSettled,
  isTracingActive,
  openSubsegment,
  type TraceSegment,
} from '../observability.js';
import { iamAuthTokenFor, lambdaCredentials } from './iam-auth.js';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
/** A client or a transaction: what repositories accept to take part in a caller's transaction. */
export type Queryable = Sql | TransactionSql;

let client: Sql | undefined;

/**
 * The database budget of one request: the clients its work used, and whether the budget
 * has passed (`expired`) or the request has ended (`finished`, after which it bounds nothing).
 */
interface DatabaseDeadline {
  budgetMs: number;
  state: 'running' | 'expired' | 'finished';
  clients: Set<Sql>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Where the current request's deadline is kept. Lambda on demand gives an instance one
 * invocation at a time, so one variable is enough (`soleDeadline`). With concurrent
 * invocations in one process (`AWS_LAMBDA_MAX_CONCURRENCY`: Lambda Managed Instances, and the
 * local gateway, SQS poller and tests, which set it) each request's async context carries
 * its own (`concurrentDeadlines`, created then). The same rule as the Lambda runtime's
 * invoke store (`@aws/lambda-invoke-store`: single or multi by that variable). Node 22's
 * `AsyncLocalStorage` runs async hooks on every promise and timer of the process once used,
 * which cost GET /api/v1/notes/{id} ~20–30 µs of CPU per request here (CPU profiles of the
 * bench's handler loop), for nothing when invocations never overlap.
 */
let concurrentDeadlines: AsyncLocalStorage<DatabaseDeadline> | undefined;
let soleDeadline: DatabaseDeadline | undefined;

/** The running request's deadline, if any (finished ones included). */
function currentDeadline(): DatabaseDeadline | undefined {
  return concurrentDeadlines?.getStore() ?? soleDeadline;
}

/**
 * Raised by `getSql()` when the current request's database budget has already passed: the
 * request must not start new database work. `isDatabaseUnavailable` recognises its `code`.
 */
export class DatabaseDeadlineExceeded extends Error {
  override name = 'DatabaseDeadlineExceeded';
  readonly code = 'DATABASE_DEADLINE_EXCEEDED';
  constructor(budgetMs: number) {
    super(`The request's database budget of ${budgetMs} ms has passed.`);
  }
}

/**
 * What postgres.js learnt about array types (`fetch_types`: it asks `pg_type` on each new
 * connection) once one connection of this instance has asked. Later connections and
 * clients reuse it instead of asking again, because postgres.js drops that query's promise:
 * a connection closed while it runs, as a deadline does to a stalled one, would end the
 * process with an unhandled rejection (postgres.js issues #1192, #1205).
 */
interface ArrayTypes {
  parsers: Record<number, (value: unknown) => unknown>;
  serializers: Record<number, (value: unknown) => unknown>;
  typeArrayMap: Record<number, number>;
}
let arrayTypes: ArrayTypes | undefined;

/** The array-type state of `sql`'s options (postgres.js keeps `typeArrayMap` in `shared`). */
function arrayTypesOf(sql: Sql): ArrayTypes {
  const options = sql.options as unknown as ArrayTypes & {
    shared: { typeArrayMap: Record<number, number> };
  };
  return {
    parsers: options.parsers,
    serializers: options.serializers,
    typeArrayMap: options.shared.typeArrayMap,
  };
}

/** Once `sql` has fetched the array types: keep them, and stop fetching them again. */
function noteArrayTypes(sql: Sql): void {
  if (!sql.options.fetch_types) return;
  const types = arrayTypesOf(sql);
  if (Object.keys(types.typeArrayMap).length === 0) return;
  arrayTypes = types;
  sql.options.fetch_types = false;
}

function createClient(): Sql {
  const config = getConfig();
  const url = config.DATABASE_URL;
  if (!url) throw new ConfigError('DATABASE_URL is not set: this function has no database.');
  const sql = postgres(url, {
    max: config.DB_POOL_MAX,
    prepare: false,
    idle_timeout: config.DB_IDLE_TIMEOUT_SECONDS,
    connect_timeout: config.DB_CONNECT_TIMEOUT_SECONDS,
    fetch_types: !arrayTypes,
    ...(config.DATABASE_IAM_AUTH
      ? { password: iamAuthTokenFor(url, config.AWS_REGION, () => lambdaCredentials(config)) }
      : {}),
    onnotice: () => {},
    // Startup parameters: every connection gets them, with no SET statement (which would
    // pin the session in RDS Proxy). Values in ms (PostgreSQL docs, "Client Connection
    // Defaults").
    connection: {
      application_name: `api-${config.STAGE}`,
      statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
      lock_timeout: config.DB_LOCK_TIMEOUT_MS,
      idle_in_transaction_session_timeout: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
  });
  if (arrayTypes) {
    const own = arrayTypesOf(sql);
    Object.assign(own.parsers, arrayTypes.parsers);
    Object.assign(own.serializers, arrayTypes.serializers);
    Object.assign(own.typeArrayMap, arrayTypes.typeArrayMap);
  }
  return sql;
}

/**
 * The postgres.js client of this Lambda instance, created on first use and reused by warm
 * invocations. Settings follow DESIGN.md: `max` from `DB_POOL_MAX` (1 in AWS),
 * `prepare: false` because RDS Proxy pins a session that uses prepared statements
 * (AWS docs, "Avoiding pinning an RDS Proxy"), a short `idle_timeout` so frozen instances do
 * not hold connections, a `connect_timeout` inside the request budget, and server-side
 * `statement_timeout`, `lock_timeout` and `idle_in_transaction_session_timeout` on every
 * connection. With `DATABASE_IAM_AUTH` each new connection presents a fresh IAM token as its
 * password (RDS Proxy with IAM auth).
 *
 * Inside a request with a database deadline (`startDatabaseDeadline`) the client is noted
 * as used by that request. Once this instance traces (an X-Ray sampled invocation loaded the
 * Tracer) it returns the client's traced view (`tracedSql`): each query is a `PostgreSQL`
 * subsegment of the invocation's trace. Errors: `DatabaseDeadlineExceeded` when that deadline has
 * passed; `ConfigError` when `DATABASE_URL` is unset.
 */
export function getSql(): Sql {
  const deadline = currentDeadline();
  if (deadline?.state === 'expired') throw new DatabaseDeadlineExceeded(deadline.budgetMs);
  client ??= createClient();
  noteArrayTypes(client);
  if (deadline?.state === 'running') deadline.clients.add(client);
  return isTracingActive() ? tracedClient(client) : client;
}

const tracedClients = new WeakMap<Sql, Sql>();

/** The traced view of `sql` (`tracedSql`), made once per client. */
function tracedClient(sql: Sql): Sql {
  let traced = tracedClients.get(sql);
  if (!traced) {
    traced = tracedSql(sql);
    tracedClients.set(sql, traced);
  }
  return traced;
}

/**
 * `query` (a postgres.js query: a `Promise` subclass that is sent on its first `then`, which
 * `await` calls) with a `PostgreSQL` subsegment opened by that first `then` and closed when
 * the query settles, under `parent`, else under the invocation's segment at that moment. A
 * query used only as a fragment of another (`sql.unsafe(COLUMNS)`) is never `then`-ed and
 * opens nothing. The SQL text of a tagged query is recorded without its values
 * (`sanitized_query`, X-Ray segment documents, "SQL queries").
 */
function traceQuery<Q extends Promise<unknown>>(query: Q, parent?: TraceSegment): Q {
  const then = query.then;
  let started = false;
  // biome-ignore lint/suspicious/noThenProperty: the query is a promise; its first `then` starts it
  query.then = function (this: Q, ...args: Parameters<Q['then']>) {
    if (!started) {
      started = true;
      const subsegment = openSubsegment('PostgreSQL', parent);
      if (subsegment) {
        const strings = (query as { strings?: unknown }).strings;
        subsegment.addSqlData({
          database_type: 'PostgreSQL',
          ...(Array.isArray(strings) && (query as { tagged?: boolean }).tagged
            ? { sanitized_query: strings.join('?').replace(/\s+/g, ' ').trim().slice(0, 1000) }
            : {}),
        });
        closeWhenSettled(subsegment, this);
      }
    }
    return then.apply(this, args);
  } as Q['then'];
  return query;
}

/** Calls `method` of `target` with its last argument, a callback taking a `sql`, traced. */
function withTracedCallback(
  target: object,
  method: (...args: unknown[]) => unknown,
  args: unknown[],
  parent: TraceSegment | undefined,
): unknown {
  const callback = args.at(-1) as (sql: Queryable) => unknown;
  return method.apply(target, [
    ...args.slice(0, -1),
    (sql: Queryable) => callback(tracedSql(sql, parent)),
  ]);
}

/**
 * A view of the postgres.js client or transaction `sql` (a `Proxy`: the same object to its
 * callers and to postgres.js) whose queries are X-Ray subsegments (`traceQuery`): tagged
 * templates, `unsafe` and `file`. A transaction (`begin`) is one `PostgreSQL` subsegment,
 * BEGIN to COMMIT, with its queries (and savepoints') under it. postgres.js has no hook
 * that sees a query start and end, hence the wrapper; `getSql` hands it out only once the
 * Tracer is loaded, so without tracing the client is used as it is.
 */
function tracedSql<S extends Queryable>(sql: S, parent?: TraceSegment): S {
  return new Proxy(sql, {
    apply(target, thisArg, args) {
      const result: unknown = Reflect.apply(target, thisArg, args);
      // Fragments (`sql(identifier)`, `sql(row, ...columns)`) are not queries.
      return result instanceof Promise ? traceQuery(result, parent) : result;
    },
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      switch (property) {
        case 'unsafe':
        case 'file':
          return (...args: unknown[]) =>
            traceQuery(method.apply(target, args) as Promise<unknown>, parent);
        case 'begin':
          return (...args: unknown[]) => {
            const transaction = openSubsegment('PostgreSQL', parent);
            transaction?.addSqlData({ database_type: 'PostgreSQL', sanitized_query: 'BEGIN' });
            const running = withTracedCallback(target, method, args, transaction ?? parent);
            if (transaction) closeWhenSettled(transaction, running as Promise<unknown>);
            return running;
          };
        case 'savepoint':
          return (...args: unknown[]) => withTracedCallback(target, method, args, parent);
        default:
          return value;
      }
    },
  });
}

/**
 * Takes `old` out of service: later `getSql()` calls get a new client, and `old` closes
 * every connection at once (postgres.js `end({ timeout: 0 })`), so its pending queries
 * reject with `CONNECTION_DESTROYED` instead of waiting on a server that does not answer.
 */
function retireClient(old: Sql): void {
  if (client === old) client = undefined;
  old.end({ timeout: 0 }).catch(() => {});
}

/**
 * Bounds the database work of the rest of the current request (its async context when
 * invocations run concurrently, else the instance's one invocation: see `soleDeadline`) to
 * `budgetMs` ms from now, and returns the function that ends the bound; call it when the
 * request ends. When the budget passes first, the clients the request used are retired
 * (see `retireClient`): its pending queries, and those of any request sharing such a
 * client (only the local gateway runs concurrent requests, with `DB_POOL_MAX` > 1), reject
 * with `CONNECTION_DESTROYED`; further `getSql()` calls of the request throw
 * `DatabaseDeadlineExceeded`. Both are 503s (`isDatabaseUnavailable`). This is the client
 * side's own limit: a stopped or partitioned server never sends its `statement_timeout`.
 */
export function startDatabaseDeadline(budgetMs: number): () => void {
  const deadline: DatabaseDeadline = {
    budgetMs,
    state: 'running',
    clients: new Set(),
    timer: undefined,
  };
  deadline.timer = setTimeout(() => {
    if (deadline.state !== 'running') return;
    deadline.state = 'expired';
    if (deadline.clients.size) {
      logger.warn('database deadline passed; closing the connections the request used', {
        budget_ms: budgetMs,
      });
    }
    for (const used of deadline.clients) retireClient(used);
    deadline.clients.clear();
  }, budgetMs);
  deadline.timer.unref();
  if (process.env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined) {
    concurrentDeadlines ??= new AsyncLocalStorage();
    concurrentDeadlines.enterWith(deadline);
  } else {
    soleDeadline = deadline;
  }
  return () => {
    clearTimeout(deadline.timer);
    // Also after expiry: code that runs on in the caller's context (the gateway, a test) is
    // not this request's database work.
    deadline.state = 'finished';
    deadline.clients.clear();
  };
}

/** The current request's database budget (ms) and whether it has passed; undefined outside one. */
export function currentDatabaseDeadline(): { budgetMs: number; expired: boolean } | undefined {
  const deadline = currentDeadline();
  if (!deadline || deadline.state === 'finished') return undefined;
  return { budgetMs: deadline.budgetMs, expired: deadline.state === 'expired' };
}

/** Closes the instance's client (tests and CLI tools; Lambda never needs to). */
export async function closeSql(): Promise<void> {
  const current = client;
  client = undefined;
  await current?.end({ timeout: 5 });
}

/**
 * Runs `work` in one transaction (BEGIN … COMMIT, ROLLBACK on throw) and returns its result.
 * Writes that must trigger background work add their outbox row through the same `tx`.
 */
export function withTransaction<T>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return getSql().begin(work) as Promise<T>;
}

/**
 * Runs `work`'s reads in one `REPEATABLE READ READ ONLY` transaction, so every statement sees
 * the same snapshot (PostgreSQL docs, "Transaction Isolation"): a read of several tables
 * never mixes states from before and after a concurrent write's commit.
 */
export function withReadSnapshot<T>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return getSql().begin('isolation level repeatable read read only', work) as Promise<T>;
}

// The pure classifiers of database errors live in ./errors.ts (no postgres.js import), so
// the HTTP stack's error mapping does not bundle the driver into functions without a database.
export {
  isDatabaseUnavailable,
  isDataException,
  isForeignKeyViolation,
  isUniqueViolation,
} from './errors.js';
