/** Schemas of API keys (API.md § API keys). */
import * as z from 'zod/mini';
import type { Role } from '../auth/tokens.js';
import { Timestamp, UtcTimestamp } from '../schemas.js';

/** Every scope a key may hold. */
export const API_KEY_SCOPES = [
  'notes:read',
  'notes:write',
  'inventory:read',
  'inventory:write',
  'orders:read',
  'orders:write',
] as const;
export const ApiKeyScope = z.enum(API_KEY_SCOPES);
export type ApiKeyScope = z.output<typeof ApiKeyScope>;

/**
 * Scopes whose routes are all admin-only (today `inventory:write`: `POST /inventory/update`):
 * only an admin may put them on a key (a user's key with one would act beyond the user).
 * `tests/unit/api-key-scopes.test.ts` derives the same set from the route table.
 */
export const ADMIN_ONLY_SCOPES: ReadonlySet<ApiKeyScope> = new Set(['inventory:write']);

/** The scopes the owner's role may put on a key. */
export function scopesAllowedFor(role: Role): ApiKeyScope[] {
  return API_KEY_SCOPES.filter((scope) => role === 'admin' || !ADMIN_ONLY_SCOPES.has(scope));
}

/** At most this many live (not revoked, not expired) keys per user. */
export const MAX_LIVE_KEYS = 20;

const KeyName = z.string().check(z.trim(), z.minLength(1), z.maxLength(100));

export const CreateApiKeyBody = z
  .strictObject({
    name: KeyName,
    // A set: a repeated scope counts once (the service keeps each once).
    scopes: z.array(ApiKeyScope).check(z.minLength(1), z.maxLength(API_KEY_SCOPES.length)),
    expires_at: z.optional(Timestamp),
  })
  .register(z.globalRegistry, {
    id: 'CreateApiKeyRequest',
    example: { name: 'stock feeder', scopes: ['inventory:write'] },
  });
export type CreateApiKeyBody = z.output<typeof CreateApiKeyBody>;

const API_KEY_EXAMPLE = {
  id: '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  name: 'stock feeder',
  prefix: 'sk_dev_4fT9aQ2xLm',
  scopes: ['inventory:write'],
  created_at: '2024-01-01T10:00:00.000Z',
  expires_at: null,
  last_used_at: null,
};

/** A key as lists show it: never the secret. */
export const ApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(ApiKeyScope),
    created_at: UtcTimestamp,
    expires_at: z.nullable(UtcTimestamp),
    last_used_at: z.nullable(UtcTimestamp),
  })
  .register(z.globalRegistry, { id: 'ApiKey', example: API_KEY_EXAMPLE });
export type ApiKey = z.output<typeof ApiKey>;

/** A new key, with the secret shown this once. */
export const CreatedApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(ApiKeyScope),
    created_at: UtcTimestamp,
    expires_at: z.nullable(UtcTimestamp),
    last_used_at: z.nullable(UtcTimestamp),
    key: z.string(),
  })
  .register(z.globalRegistry, {
    id: 'CreatedApiKey',
    description: '`key` is shown this once; only its hash is stored.',
    example: { ...API_KEY_EXAMPLE, key: 'sk_dev_4fT9aQ2xLm…' },
  });
export type CreatedApiKey = z.output<typeof CreatedApiKey>;

export const ApiKeyList = z
  .object({ items: z.array(ApiKey) })
  .register(z.globalRegistry, { id: 'ApiKeyList', example: { items: [API_KEY_EXAMPLE] } });
export type ApiKeyList = z.output<typeof ApiKeyList>;

export const ApiKeyIdParams = z.object({ id: z.uuid() });
