import { isAccessTokenRevoked } from '../../auth/revocation.js';
import { TokenCache } from '../../auth/token-cache.js';
import type { Principal } from '../../auth/tokens.js';
import { Forbidden, Unauthenticated } from '../../errors.js';
import { addCheck, redisBatchOf, settleChecks } from './checks.js';
import { refusedCredential } from './ip-limit.js';
import type { Middleware } from './types.js';

/** RFC 6750 §2.1: `Bearer` and a b64token (case-insensitive scheme, one or more spaces). */
const BEARER_PATTERN = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** An API key sent as a bearer token (`sk_…`), refused here: see `./api-key.ts`. */
const API_KEY_BEARER = /^Bearer +sk_/i;

/** This instance's verified tokens (shared by every request it serves). */
const tokens = new TokenCache();

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1).
 * Errors: `Unauthenticated` (401, `invalid_request`) for any other form.
 */
export function bearerToken(header: string): string {
  const match = BEARER_PATTERN.exec(header);
  if (!match?.[1]) {
    throw new Unauthenticated(
      'The Authorization header must be "Bearer <token>".',
      'Bearer error="invalid_request"',
    );
  }
  return match[1];
}

export interface AuthenticationOptions {
  /** `user`: any verified caller; `admin`: a caller whose token says `role: admin`. */
  requirement: 'user' | 'admin';
  /** Where verified tokens are remembered (default: this instance's cache). */
  cache?: Pick<TokenCache, 'principalOf'>;
}

/**
 * Authenticates a `user` or `admin` route with an RFC 6750 bearer token verified with the
 * public keys only (`verifyAccessToken`, remembered per instance by `TokenCache`), and
 * authorises `admin` routes by the token's `role`. The deny-list lookup of the token's `jti`
 * (logout) is queued in the request's Redis batch and becomes a check after the per-IP
 * limit's. A presented credential that is refused (malformed header, invalid, expired or
 * revoked token) is marked for the per-IP limit (`refusedCredential`); a missing one is not.
 * An API key (`X-API-Key`, or `Bearer sk_…`) is refused with 403: routes that accept keys
 * run `./api-key.ts` instead, which calls this for requests without a key.
 * Errors: `Unauthenticated` (401 with `WWW-Authenticate: Bearer`), `Forbidden` (403, decided
 * only after the deny list and the IP limit have answered, so their verdicts come first).
 */
export function authentication(options: AuthenticationOptions): Middleware {
  const cache = options.cache ?? tokens;
  return {
    before: async (request) => {
      const state = request.context.requestState;
      const header = request.event.headers?.authorization;
      if (request.event.headers?.['x-api-key'] !== undefined || API_KEY_BEARER.test(header ?? '')) {
        // A route that declares no `apiKeyScope` takes tokens only (API.md § API keys).
        await settleChecks(state);
        throw new Forbidden('This route does not accept API keys: send an access token.');
      }
      if (!header) {
        throw new Unauthenticated('Send an access token: Authorization: Bearer <token>.', 'Bearer');
      }
      let principal: Principal;
      try {
        principal = await cache.principalOf(bearerToken(header));
      } catch (error) {
        throw error instanceof Unauthenticated ? refusedCredential(error) : error;
      }
      state.principal = principal;
      const revoked = isAccessTokenRevoked(principal.tokenId, redisBatchOf(state));
      addCheck(
        state,
        revoked.then((isRevoked) => {
          if (!isRevoked) return;
          throw refusedCredential(
            new Unauthenticated(
              'The access token has been revoked.',
              'Bearer error="invalid_token"',
            ),
          );
        }),
      );
      if (options.requirement === 'admin' && principal.role !== 'admin') {
        await settleChecks(state);
        throw new Forbidden('This route is for admins.');
      }
    },
  };
}
