/** API keys of machine clients (API.md § API keys): create, list, revoke. */

import { addAuditEvent } from '../audit/events.js';
import type { Principal, Role } from '../auth/tokens.js';
import { getConfig } from '../config.js';
import { withTransaction } from '../db/client.js';
import { Conflict, NotFound, ValidationFailed } from '../errors.js';
import { publishNow } from '../queue/outbox.js';
import * as repository from './repository.js';
import {
  type ApiKey,
  type ApiKeyList,
  type ApiKeyScope,
  type CreateApiKeyBody,
  type CreatedApiKey,
  MAX_LIVE_KEYS,
  scopesAllowedFor,
} from './schemas.js';
import { generateKey } from './secrets.js';

function toApiKey(row: repository.ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as ApiKeyScope[],
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
  };
}

/**
 * Creates a key for the caller, with the secret shown this once. The owner's current role
 * (read under a lock of their row, which also serialises their concurrent creations) decides
 * the scopes it may hold. Errors: `ValidationFailed` (422) for a scope the role may not use or
 * an `expires_at` not in the future; `Conflict` (409) when the caller already has
 * `MAX_LIVE_KEYS` live keys; `NotFound` (404) when the account is gone (a live token of a deleted user).
 * Audits `api_key.created` (actor: the caller) in the insert's transaction, published after
 * commit; the event holds the key's id, name, public prefix, scopes and expiry, never the
 * secret or its hash.
 */
export async function createApiKey(
  caller: Principal,
  body: CreateApiKeyBody,
): Promise<CreatedApiKey> {
  const expiresAt = body.expires_at ?? null;
  if (expiresAt !== null && Date.parse(expiresAt) <= Date.now()) {
    throw new ValidationFailed([
      { field: 'expires_at', message: 'Must be in the future.', code: 'too_small' },
    ]);
  }
  const secret = generateKey(getConfig().STAGE);
  const { row, eventId } = await withTransaction(async (tx) => {
    const role = await repository.lockOwner(tx, caller.userId);
    if (!role) throw new NotFound('The account does not exist.');
    const allowed = new Set(scopesAllowedFor(role as Role));
    const forbidden = body.scopes
      .map((scope, i) => ({ scope, i }))
      .filter(({ scope }) => !allowed.has(scope));
    if (forbidden.length) {
      throw new ValidationFailed(
        forbidden.map(({ scope, i }) => ({
          field: `scopes.${i}`,
          message: `Your role (${role}) may not use the scope ${scope}.`,
          code: 'scope_not_allowed',
        })),
      );
    }
    if ((await repository.countLiveKeys(tx, caller.userId)) >= MAX_LIVE_KEYS) {
      throw new Conflict(`You have ${MAX_LIVE_KEYS} live keys, the most allowed: revoke one.`);
    }
    const row = await repository.insertKey(tx, {
      userId: caller.userId,
      name: body.name,
      prefix: secret.prefix,
      hash: secret.hash,
      scopes: [...new Set(body.scopes)],
      expiresAt,
    });
    const eventId = await addAuditEvent(tx, {
      action: 'api_key.created',
      actorId: caller.userId,
      resourceType: 'api_key',
      resourceId: row.id,
      metadata: {
        name: row.name,
        prefix: row.prefix,
        scopes: row.scopes,
        expires_at: row.expires_at?.toISOString() ?? null,
      },
    });
    return { row, eventId };
  });
  await publishNow([eventId]);
  return { ...toApiKey(row), key: secret.key };
}

/** The caller's keys that are not revoked (expired ones too), never their secrets. */
export async function listApiKeys(caller: Principal): Promise<ApiKeyList> {
  return { items: (await repository.listKeys(caller.userId)).map(toApiKey) };
}

/**
 * Revokes one of the caller's keys; revoking a revoked key succeeds again (idempotent) and
 * changes nothing. The revocation that takes effect audits `api_key.revoked` (actor: the
 * caller) in its transaction, published after commit; a repeat adds no event.
 * Errors: `NotFound` for an unknown id or another user's key.
 */
export async function revokeApiKey(caller: Principal, id: string): Promise<void> {
  const eventId = await withTransaction(async (tx) => {
    const outcome = await repository.revokeKey(tx, caller.userId, id);
    if (outcome === null) throw new NotFound('No key with this id.');
    if (outcome === 'already') return null;
    return addAuditEvent(tx, {
      action: 'api_key.revoked',
      actorId: caller.userId,
      resourceType: 'api_key',
      resourceId: id,
    });
  });
  if (eventId) await publishNow([eventId]);
}
