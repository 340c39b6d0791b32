import { principalOfKey } from '../../api-keys/verification.js';
import { Forbidden, Unauthenticated } from '../../errors.js';
import { settleChecks } from './checks.js';
import { refusedCredential } from './ip-limit.js';
import type { Middleware } from './types.js';

export interface ApiKeyAuthenticationOptions {
  /** The route's requirement; an admin route needs a key whose owner is an admin now. */
  requirement: 'user' | 'admin';
  /** The scopes the route's entry declares (`apiKeyScope`): a key needs one of them. */
  scopes: readonly string[];
  /** Token authentication, for requests that carry no key. */
  tokens: Middleware;
}

const KEY_BEARER = /^Bearer +(sk_\S*)$/i;

/** The key of a request: `X-API-Key`, else an `Authorization: Bearer sk_…`; or undefined. */
export function presentedKey(headers: Record<string, string | undefined>): string | undefined {
  const header = headers['x-api-key'];
  if (header !== undefined) return header.trim();
  const authorization = headers.authorization;
  return authorization ? KEY_BEARER.exec(authorization)?.[1] : undefined;
}

/**
 * Authentication of a route that accepts API keys (it declares `apiKeyScope`): a request with
 * a key (`X-API-Key: sk_…` or `Authorization: Bearer sk_…`) is authenticated by the key
 * (`principalOfKey`: its owner's current role, its scopes), any other by `options.tokens`.
 * Only these routes bundle the key code (`STACK_NEEDS_API_KEY`). Errors: `Unauthenticated`
 * (401, the same body for an unknown, expired or revoked key, counted as a refused credential
 * by the per-IP limit); `Forbidden` (403) for a key without the route's scope, or on an admin
 * route when the owner is no admin, decided after the IP limit's answer.
 */
export function apiKeyAuthentication(options: ApiKeyAuthenticationOptions): Middleware {
  return {
    before: async (request) => {
      const key = presentedKey(request.event.headers ?? {});
      if (key === undefined) return options.tokens.before?.(request);
      const state = request.context.requestState;
      try {
        state.principal = await principalOfKey(key);
      } catch (error) {
        throw error instanceof Unauthenticated ? refusedCredential(error) : error;
      }
      const principal = state.principal;
      const held = principal.apiKey?.scopes ?? [];
      if (!options.scopes.some((scope) => held.includes(scope))) {
        await settleChecks(state);
        throw new Forbidden(`This key lacks the scope ${options.scopes.join(' or ')}.`);
      }
      if (options.requirement === 'admin' && principal.role !== 'admin') {
        await settleChecks(state);
        throw new Forbidden('This route is for admins.');
      }
    },
  };
}
