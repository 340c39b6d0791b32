import { createHash } from 'node:crypto';
import type { Queryable, TransactionSql } from './client.js';
import { purgeOldest } from './purge.js';

/**
 * The records of idempotency keys (table `idempotency_keys`, migration 1763800000008): one per
 * caller, route and key, holding the fingerprint of the request that used the key and the
 * response to replay (draft-ietf-httpapi-idempotency-key-header; API.md § Idempotency keys).
 * Platform code: the HTTP stack's `middleware/idempotency.ts` decides what goes in them.
 */

/** How long a record is kept at least, in hours (API.md: "kept at least 24 hours"). */
export const IDEMPOTENCY_KEY_RETENTION_HOURS = 24;

/** Which key: the caller (`scope`, a user id), the route (`POST /api/v1/orders`) and the key. */
export interface IdempotencyKeyId {
  scope: string;
  route: string;
  key: string;
}

/** A stored response and the fingerprint (SHA-256 hex) of the request that produced it. */
export interface IdempotencyRecord {
  fingerprint: string;
  status: number;
  headers: Record<string, string>;
  /** The body as sent (JSON text, or null for none). */
  body: string | null;
}

interface RecordRow {
  fingerprint: string;
  response_status: number;
  response_headers: Record<string, string>;
  response_body: string | null;
}

/** The record of `id`, or undefined. One primary-key lookup. */
export async function findIdempotencyRecord(
  sql: Queryable,
  id: IdempotencyKeyId,
): Promise<IdempotencyRecord | undefined> {
  const [row] = await sql<RecordRow[]>`
    SELECT fingerprint, response_status, response_headers, response_body
    FROM idempotency_keys
    WHERE scope = ${id.scope} AND route = ${id.route} AND key = ${id.key}`;
  return (
    row && {
      fingerprint: row.fingerprint,
      status: row.response_status,
      headers: row.response_headers,
      body: row.response_body,
    }
  );
}

/**
 * The advisory-lock id of a key: the first 64 bits of SHA-256 over the JSON of
 * `[scope, route, key]` (no separator ambiguity), as a signed bigint in decimal text.
 */
export function idempotencyLockId(id: IdempotencyKeyId): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([id.scope, id.route, id.key]))
    .digest();
  return digest.readBigInt64BE(0).toString();
}

/**
 * Tries to take the transaction-level advisory lock of `id` (`pg_try_advisory_xact_lock`,
 * released at COMMIT or ROLLBACK; PostgreSQL docs, "Advisory Locks") without waiting.
 * Returns false when another transaction holds it: a request with this key is in progress.
 */
export async function tryLockIdempotencyKey(
  tx: TransactionSql,
  id: IdempotencyKeyId,
): Promise<boolean> {
  const [row] = await tx<{ locked: boolean }[]>`
    SELECT pg_try_advisory_xact_lock(${idempotencyLockId(id)}::bigint) AS locked`;
  return row?.locked === true;
}

/**
 * Inserts the record of `id` unless one exists (`ON CONFLICT DO NOTHING`). Returns whether
 * this call inserted it.
 */
export async function insertIdempotencyRecord(
  sql: Queryable,
  id: IdempotencyKeyId,
  record: IdempotencyRecord,
): Promise<boolean> {
  const result = await sql`
    INSERT INTO idempotency_keys
      (scope, route, key, fingerprint, response_status, response_headers, response_body)
    VALUES (${id.scope}, ${id.route}, ${id.key}, ${record.fingerprint}, ${record.status},
            ${sql.json(record.headers)}, ${record.body})
    ON CONFLICT (scope, route, key) DO NOTHING`;
  return result.count === 1;
}

/**
 * Deletes at most `limit` records older than `IDEMPOTENCY_KEY_RETENTION_HOURS`, oldest first
 * (an index range scan of `idempotency_keys_created_idx`; rows locked by another purge are
 * skipped), and returns how many. For `functions/workers/retention.ts`.
 */
export function purgeExpiredIdempotencyKeys(limit: number): Promise<number> {
  return purgeOldest(
    {
      table: 'idempotency_keys',
      endedAt: (sql) => sql`created_at`,
      keepFor: { hours: IDEMPOTENCY_KEY_RETENTION_HOURS },
    },
    limit,
  );
}
