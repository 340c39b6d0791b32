/** Routes of API keys (API.md § API keys); gathered by `./index.ts`. Tokens only. */
import {
  ApiKeyIdParams,
  ApiKeyList,
  CreateApiKeyBody,
  CreatedApiKey,
} from '../api-keys/schemas.js';
import { defineRoute, type RouteDefinition } from '../http/route.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';

export const keysRoutes = {
  createApiKey: defineRoute({
    method: 'POST',
    path: '/api/v1/api-keys',
    function: 'keys/create',
    errors: [404, 409],
    auth: 'user',
    database: true,
    publishes: ['audit'],
    rateLimit: limits.default,
    summary: 'Create an API key (its secret is shown this once)',
    description:
      'Scopes from `notes:read notes:write inventory:read inventory:write orders:read ' +
      'orders:write`; a scope your role cannot use (`inventory:write` for a non-admin) is 422. ' +
      'At most 20 live keys per user (the 21st is 409). `expires_at` any future instant. ' +
      'Send the key as `X-API-Key` or `Authorization: Bearer`. Needs a user token: a key ' +
      'cannot make keys.',
    tag: 'api-keys',
    request: { body: CreateApiKeyBody },
    responses: { 201: CreatedApiKey },
  }),
  listApiKeys: defineRoute({
    method: 'GET',
    path: '/api/v1/api-keys',
    function: 'keys/list',
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Your API keys that are not revoked (never their secrets)',
    tag: 'api-keys',
    responses: { 200: ApiKeyList },
  }),
  revokeApiKey: defineRoute({
    method: 'DELETE',
    path: '/api/v1/api-keys/{id}',
    function: 'keys/revoke',
    errors: [404],
    auth: 'user',
    database: true,
    publishes: ['audit'],
    rateLimit: limits.default,
    summary: 'Revoke an API key (idempotent)',
    description: 'A revoked key is refused within 5 s everywhere. Another user’s key is 404.',
    tag: 'api-keys',
    request: { path: ApiKeyIdParams },
    responses: { 204: null },
  }),
} satisfies Record<string, RouteDefinition>;
