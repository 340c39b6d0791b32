/**
 * What a database error means, from its code alone (postgres.js errors carry the SQLSTATE or
 * the Node.js network code in `code`): no import of the driver, so the HTTP stack's problem
 * mapping can use these in every function, including those that never query PostgreSQL.
 * Source of the codes: PostgreSQL docs, "Appendix A. PostgreSQL Error Codes".
 */

const UNAVAILABLE_CODES = new Set([
  'DATABASE_DEADLINE_EXCEEDED', // DatabaseDeadlineExceeded
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
  '57014', // query_canceled: statement_timeout
  '55P03', // lock_not_available: lock_timeout
  '25P03', // idle_in_transaction_session_timeout
]);

/**
 * True when `error` means the database cannot be reached or did not answer in time (network
 * errors, postgres.js connection errors, SQLSTATE class 08, the shutdown codes of class 57,
 * the statement, lock and idle-in-transaction timeouts, and `DatabaseDeadlineExceeded`),
 * which the HTTP stack answers with 503 and `Retry-After` rather than 500.
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

/** True when `error` is a PostgreSQL foreign-key violation (SQLSTATE 23503). */
export function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23503';
}

/**
 * True when PostgreSQL refused a value itself (SQLSTATE class 22, data exception: a number or
 * date out of range, text it cannot represent). Validation should catch every such input
 * first; this is the safety net that answers 422 instead of 500 when a rule was missed.
 */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && code.startsWith('22');
}
