import { createHash, randomBytes } from 'node:crypto';
import { getSql, withTransaction } from '../db/client.js';
import { purgeOldest } from '../db/purge.js';
import { Unauthenticated } from '../errors.js';

/** Absolute lifetime of a refresh token family, from the login that started it. */
export const REFRESH_FAMILY_LIFETIME_DAYS = 30;

/** A new opaque refresh token: 256 random bits, base64url (RFC 9700 §4.14; OWASP). */
function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a token; a fast hash suffices for 256-bit random secrets (OWASP). */
function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

const invalid = () => new Unauthenticated('The refresh token is invalid, used or expired.');

/** Starts a new family for `userId` (at login) and returns its first token. */
export async function startRefreshFamily(userId: string): Promise<string> {
  const token = newToken();
  await getSql()`
    INSERT INTO refresh_tokens (family_id, user_id, token_hash, family_expires_at)
    VALUES (gen_random_uuid(), ${userId}, ${hashToken(token)},
            now() + make_interval(days => ${REFRESH_FAMILY_LIFETIME_DAYS}))`;
  return token;
}

/**
 * Rotates a refresh token: marks it used and issues its successor in the same family, in
 * one transaction holding the token's row lock, so of two concurrent refreshes with the
 * same token exactly one succeeds. Presenting a token that was already used revokes the
 * whole family (theft detection, RFC 9700 §4.14.2) — that includes the loser of such a race.
 * Returns the user id and the new token. Errors: `Unauthenticated` (401).
 */
export async function rotateRefreshToken(
  token: string,
): Promise<{ userId: string; token: string }> {
  const outcome = await withTransaction(async (tx) => {
    const [row] = await tx<
      {
        id: string;
        family_id: string;
        user_id: string;
        used_at: Date | null;
        revoked_at: Date | null;
        expired: boolean;
      }[]
    >`
      SELECT id, family_id, user_id, used_at, revoked_at, family_expires_at <= now() AS expired
      FROM refresh_tokens WHERE token_hash = ${hashToken(token)}
      FOR UPDATE`;
    if (!row || row.revoked_at || row.expired) return null;
    if (row.used_at) {
      await tx`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = ${row.family_id} AND revoked_at IS NULL`;
      return 'reused' as const;
    }
    const next = newToken();
    await tx`UPDATE refresh_tokens SET used_at = now() WHERE id = ${row.id}`;
    await tx`
      INSERT INTO refresh_tokens (family_id, user_id, token_hash, family_expires_at)
      SELECT family_id, user_id, ${hashToken(next)}, family_expires_at FROM refresh_tokens WHERE id = ${row.id}`;
    return { userId: row.user_id, token: next };
  });
  if (!outcome || outcome === 'reused') throw invalid();
  return outcome;
}

/** Revokes the family of `token` if it belongs to `userId` (logout). Unknown tokens are ignored. */
export async function revokeRefreshFamily(userId: string, token: string): Promise<void> {
  await getSql()`
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE revoked_at IS NULL AND family_id = (
      SELECT family_id FROM refresh_tokens WHERE token_hash = ${hashToken(token)} AND user_id = ${userId})`;
}

/**
 * How long a refresh token row is kept after its family ended (expired, or revoked), in
 * days. Before that end no token is deleted, used ones included: presenting a used token
 * again is how reuse is detected and the family revoked (RFC 9700 §4.14.2), so it must
 * stay for the family's whole lifetime. Afterwards every token of the family is refused
 * whether its row exists or not; the extra week keeps the trail for investigating a
 * session incident.
 */
export const ENDED_REFRESH_TOKEN_RETENTION_DAYS = 7;

/**
 * Deletes at most `limit` refresh tokens whose family ended more than
 * `ENDED_REFRESH_TOKEN_RETENTION_DAYS` ago, oldest first, in one statement (index
 * `refresh_tokens_ended_idx`); rows locked by a concurrent refresh are left for the next
 * batch. Returns how many it deleted.
 */
export function purgeEndedRefreshTokens(limit: number): Promise<number> {
  return purgeOldest(
    {
      table: 'refresh_tokens',
      endedAt: (sql) => sql`LEAST(family_expires_at, revoked_at)`,
      keepFor: { days: ENDED_REFRESH_TOKEN_RETENTION_DAYS },
    },
    limit,
  );
}
