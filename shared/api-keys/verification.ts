/**
 * Authentication by API key (API.md § API keys): a presented key becomes its owner's
 * principal (the owner's current role) with the key's scopes.
 *
 * Revocation within 5 s everywhere: a verified key is remembered by this instance for at
 * most `KEY_CACHE_MAX_AGE_MS` (4 s, leaving a second for the database read and clock
 * drift), then PostgreSQL is asked again. PostgreSQL rather than a Redis deny list: the
 * revocation is one committed UPDATE in the table the lookup reads, so no second store can
 * miss it or lag behind it (a Redis outage fails the limits open, and must not resurrect a
 * revoked key), and keyed routes all use the database already. A revoked, expired or unknown
 * key is never cached, so each costs one indexed lookup; the per-IP budget of refused
 * credentials bounds them.
 *
 * `last_used_at` is written at most once a minute per key: the instance skips the write when
 * it wrote less than a minute ago, and the UPDATE itself matches only a row whose value is a
 * minute old (so many instances still write once).
 */
import type { Principal, Role } from '../auth/tokens.js';
import { Unauthenticated } from '../errors.js';
import { logger } from '../logger.js';
import { findByPrefix, touchLastUsed } from './repository.js';
import { hashKey, keyMatches, prefixOf } from './secrets.js';

/** Longest time a verified key is trusted without reading PostgreSQL again, in ms. */
export const KEY_CACHE_MAX_AGE_MS = 4_000;
/** Most verified keys one instance remembers. */
export const KEY_CACHE_SIZE = 1000;
/** `last_used_at` is written at most once per this many seconds per key. */
export const LAST_USED_INTERVAL_SECONDS = 60;

/** One body for an unknown, expired and revoked key (API.md: 401, nothing told apart). */
export function invalidKey(): Unauthenticated {
  return new Unauthenticated('The API key is not valid.', 'Bearer error="invalid_token"');
}

interface Entry {
  principal: Principal;
  until: number;
}

/** Verified keys by the SHA-256 of the whole key (hex): a hit means the key matched. */
const entries = new Map<string, Entry>();
/** When this instance last wrote each key's `last_used_at`, Unix ms. */
const touched = new Map<string, number>();

/** Forgets every remembered key (tests). */
export function clearKeyCache(): void {
  entries.clear();
  touched.clear();
}

async function touch(keyId: string, nowMs: number): Promise<void> {
  const last = touched.get(keyId);
  if (last !== undefined && nowMs - last < LAST_USED_INTERVAL_SECONDS * 1000) return;
  touched.set(keyId, nowMs);
  if (touched.size > KEY_CACHE_SIZE) touched.delete(touched.keys().next().value as string);
  try {
    await touchLastUsed(keyId, LAST_USED_INTERVAL_SECONDS);
  } catch (error) {
    // Bookkeeping only: the request goes on.
    logger.warn('last_used_at not written', { keyId, error });
  }
}

/**
 * The principal of a presented API key. Errors: `Unauthenticated` (401, one body) for an
 * unknown, malformed, expired or revoked key; database errors as they are.
 */
export async function principalOfKey(key: string, nowMs = Date.now()): Promise<Principal> {
  const hashHex = hashKey(key).toString('hex');
  const hit = entries.get(hashHex);
  if (hit && hit.until > nowMs) {
    await touch(hit.principal.apiKey?.id as string, nowMs);
    return hit.principal;
  }
  entries.delete(hashHex);
  const prefix = prefixOf(key);
  const row = prefix ? await findByPrefix(prefix) : null;
  // The hash and comparison run whatever was found (a dummy when nothing), for similar work.
  const matches = keyMatches(key, row?.key_hash ?? null);
  if (!row || !matches || row.revoked_at || (row.expires_at && row.expires_at.getTime() <= nowMs)) {
    throw invalidKey();
  }
  const expiresAtMs = row.expires_at?.getTime() ?? Number.POSITIVE_INFINITY;
  const principal: Principal = {
    userId: row.user_id,
    role: row.role as Role,
    tokenId: `api-key:${row.id}`,
    expiresAt: Number.isFinite(expiresAtMs) ? Math.floor(expiresAtMs / 1000) : 0,
    apiKey: { id: row.id, scopes: row.scopes },
  };
  entries.set(hashHex, { principal, until: Math.min(nowMs + KEY_CACHE_MAX_AGE_MS, expiresAtMs) });
  while (entries.size > KEY_CACHE_SIZE) entries.delete(entries.keys().next().value as string);
  await touch(row.id, nowMs);
  return principal;
}
