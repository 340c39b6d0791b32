import { getSql, type Queryable } from '../db/client.js';

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** A key as authentication needs it: its hash and its owner's current role. */
export interface ApiKeyCredentialRow extends ApiKeyRow {
  key_hash: Buffer;
  role: string;
}

const COLUMNS =
  'id, user_id, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at';

/** The role of the user, locking the user's row (serialises one user's key creations). */
export async function lockOwner(sql: Queryable, userId: string): Promise<string | null> {
  const [row] = await sql<{ role: string }[]>`
    SELECT role FROM users WHERE id = ${userId} FOR UPDATE`;
  return row?.role ?? null;
}

/** How many of the user's keys are live (not revoked, not expired). */
export async function countLiveKeys(sql: Queryable, userId: string): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM api_keys
    WHERE user_id = ${userId} AND revoked_at IS NULL
      AND (expires_at IS NULL OR expires_at > now())`;
  return row?.count ?? 0;
}

export async function insertKey(
  sql: Queryable,
  key: {
    userId: string;
    name: string;
    prefix: string;
    hash: Buffer;
    scopes: string[];
    expiresAt: string | null;
  },
): Promise<ApiKeyRow> {
  const [row] = await sql<ApiKeyRow[]>`
    INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, expires_at)
    VALUES (${key.userId}, ${key.name}, ${key.prefix}, ${key.hash}, ${key.scopes}::text[],
            ${key.expiresAt}::timestamptz)
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row as ApiKeyRow;
}

/** The user's keys that are not revoked (expired ones included), newest first. */
export async function listKeys(userId: string, sql: Queryable = getSql()): Promise<ApiKeyRow[]> {
  return sql<ApiKeyRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM api_keys
    WHERE user_id = ${userId} AND revoked_at IS NULL
    ORDER BY created_at DESC, id DESC`;
}

/**
 * Revokes the user's key if it is live: sets `revoked_at` only where it is null, so a revoked
 * key keeps its first `revoked_at`. Concurrent revocations queue on the row lock and only the
 * first matches (READ COMMITTED re-checks the WHERE). Returns `'revoked'` when this call
 * revoked it, `'already'` when it was revoked before, `null` when the user has no key with
 * this id (none at all, or another user's).
 */
export async function revokeKey(
  sql: Queryable,
  userId: string,
  id: string,
): Promise<'revoked' | 'already' | null> {
  const updated = await sql`
    UPDATE api_keys SET revoked_at = now()
    WHERE id = ${id} AND user_id = ${userId} AND revoked_at IS NULL
    RETURNING id`;
  if (updated.length > 0) return 'revoked';
  const [existing] = await sql`SELECT 1 FROM api_keys WHERE id = ${id} AND user_id = ${userId}`;
  return existing ? 'already' : null;
}

/** The key with this public prefix, with its hash and its owner's current role, or null. */
export async function findByPrefix(
  prefix: string,
  sql: Queryable = getSql(),
): Promise<ApiKeyCredentialRow | null> {
  const [row] = await sql<ApiKeyCredentialRow[]>`
    SELECT k.id, k.user_id, k.name, k.prefix, k.scopes, k.created_at, k.expires_at,
           k.revoked_at, k.last_used_at, k.key_hash, u.role
    FROM api_keys k JOIN users u ON u.id = k.user_id
    WHERE k.prefix = ${prefix}`;
  return row ?? null;
}

/**
 * Sets `last_used_at` to now unless it was set less than `intervalSeconds` ago: at most one
 * write per key per interval, whatever the request rate (a conditional UPDATE; concurrent
 * requests after the interval race for one row lock and all but the first match nothing).
 */
export async function touchLastUsed(
  id: string,
  intervalSeconds: number,
  sql: Queryable = getSql(),
): Promise<void> {
  await sql`
    UPDATE api_keys SET last_used_at = now()
    WHERE id = ${id}
      AND (last_used_at IS NULL
           OR last_used_at < now() - make_interval(secs => ${intervalSeconds}))`;
}
