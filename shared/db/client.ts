import postgres from 'postgres';
import { getConfig } from '../config.js';
import { iamAuthTokenFor } from './iam-auth.js';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
/** A client or a transaction: what repositories accept to take part in a caller's transaction. */
export type Queryable = Sql | TransactionSql;

let client: Sql | undefined;

/**
 * The postgres.js client of this Lambda instance, created on first use and reused by warm
 * invocations. Settings follow DESIGN.md: `max` from `DB_POOL_MAX` (1 in AWS),
 * `prepare: false` because RDS Proxy pins a session that uses prepared statements
 * (AWS docs, "Avoiding pinning an RDS Proxy"), a short `idle_timeout` so frozen instances do
 * not hold connections, and a bounded `connect_timeout`. With `DATABASE_IAM_AUTH` each new
 * connection presents a fresh IAM token as its password (RDS Proxy with IAM auth).
 */
export function getSql(): Sql {
  if (client) return client;
  const config = getConfig();
  client = postgres(config.DATABASE_URL, {
    max: config.DB_POOL_MAX,
    prepare: false,
    idle_timeout: config.DB_IDLE_TIMEOUT_SECONDS,
    connect_timeout: config.DB_CONNECT_TIMEOUT_SECONDS,
    ...(config.DATABASE_IAM_AUTH
      ? { password: iamAuthTokenFor(config.DATABASE_URL, config.AWS_REGION) }
      : {}),
    onnotice: () => {},
    connection: { application_name: `api-${config.STAGE}` },
  });
  return client;
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

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

/**
 * True when `error` means the database cannot be reached (network errors, postgres.js
 * connection errors, SQLSTATE class 08 and the shutdown codes of class 57), which the HTTP
 * stack answers with 503 rather than 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return UNAVAILABLE_CODES.has(code) || code.startsWith('08');
}

/** True when `error` is a PostgreSQL unique violation (SQLSTATE 23505), optionally on `constraint`. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: unknown; constraint_name?: unknown } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint_name === constraint);
}
