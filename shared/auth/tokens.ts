import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod/mini';
import { ConfigError, getConfig } from '../config.js';
import { Unauthenticated } from '../errors.js';
import { getSigningKey, getVerificationKeys, reloadVerificationKeys } from './keys.js';

export const Role = z.enum(['user', 'admin']);
export type Role = z.output<typeof Role>;

/** Who made the request, from a verified access token. */
export interface Principal {
  userId: string;
  role: Role;
  /** Token id (`jti`), for revocation. */
  tokenId: string;
  /** Expiry, seconds since the epoch. */
  expiresAt: number;
  /**
   * Set when the caller authenticated with an API key (`api-keys/verification.ts`): the key
   * and its scopes. `tokenId` is then `api-key:<id>` and `expiresAt` the key's expiry (0: none).
   */
  apiKey?: { id: string; scopes: string[] };
}

/** The JWT `typ` header of access tokens (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Allowed clock skew when checking `exp`, `nbf` and `iat`, in seconds (API.md § Auth). */
export const CLOCK_TOLERANCE_SECONDS = 30;

const AccessTokenPayload = z.object({
  sub: z.uuid(),
  role: Role,
  jti: z.string().check(z.minLength(1), z.maxLength(128)),
  iat: z.number(),
  exp: z.number(),
});

/**
 * `iss`, `aud` and lifetime (seconds) of our access tokens. Errors: `ConfigError` when the
 * claims are unset (config.ts requires them with any key set, so only a keyless function).
 */
function tokenClaims(): { issuer: string; audience: string; ttlSeconds: number } {
  const { JWT_ISSUER, JWT_AUDIENCE, ACCESS_TOKEN_TTL_SECONDS } = getConfig();
  if (!JWT_ISSUER || !JWT_AUDIENCE) throw new ConfigError('Set JWT_ISSUER and JWT_AUDIENCE.');
  return { issuer: JWT_ISSUER, audience: JWT_AUDIENCE, ttlSeconds: ACCESS_TOKEN_TTL_SECONDS };
}

/**
 * Signs an access token for `user` with the private signing key (only functions that sign
 * have it): header `{alg, kid, typ: "at+jwt"}`, claims `iss, aud, sub, role, jti, iat, exp`
 * with `exp = iat + ACCESS_TOKEN_TTL_SECONDS` (RFC 9068). Returns the compact JWS and its
 * lifetime in seconds. Errors: `ConfigError` without a signing key set.
 */
export async function issueAccessToken(user: {
  id: string;
  role: Role;
}): Promise<{ token: string; expiresIn: number }> {
  const { issuer, audience, ttlSeconds } = tokenClaims();
  const signer = await getSigningKey();
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ role: user.role })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(user.id)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(signer.key);
  return { token, expiresIn: ttlSeconds };
}

/**
 * Verifies a compact JWS access token with the PUBLIC keys only, as API.md § Auth requires:
 * algorithm pinned to the key set's asymmetric algorithms (so `none` and HS* fail), key
 * chosen by `kid` from our own key set only (`jku`, `x5u` and `jwk` headers are never used),
 * `iss`, `aud` and `typ` pinned, `exp`, `iat`, `sub` and `jti` required, 30 s clock tolerance
 * (RFC 8725 §3.1–3.11). Also rejected: an `iat` more than 30 s in the future, and a lifetime
 * `exp - iat` longer than `ACCESS_TOKEN_TTL_SECONDS` (our signer never makes one: such a
 * token was forged with a stolen key or minted by something else). A `kid` this instance does
 * not know makes it read the public key set again (at most once a minute): a rotation may
 * have published it since.
 *
 * Errors: `Unauthenticated` with an RFC 6750 `invalid_token` challenge, never saying why;
 * `ConfigError` (a server fault, not the token's) without a public key set.
 */
export async function verifyAccessToken(token: string): Promise<Principal> {
  const { issuer, audience, ttlSeconds } = tokenClaims();
  let keys = await getVerificationKeys();
  try {
    const header = decodeProtectedHeader(token);
    if (header.kid && !keys.kids.has(header.kid) && reloadVerificationKeys()) {
      keys = await getVerificationKeys();
    }
    const { payload } = await jwtVerify(token, keys.resolveKey, {
      algorithms: keys.algorithms,
      issuer,
      audience,
      typ: ACCESS_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      // `iat` no further in the future than the tolerance, and no older than a lifetime.
      maxTokenAge: ttlSeconds,
    });
    const claims = AccessTokenPayload.parse(payload);
    if (claims.exp - claims.iat > ttlSeconds) throw new Error('lifetime longer than the TTL');
    return { userId: claims.sub, role: claims.role, tokenId: claims.jti, expiresAt: claims.exp };
  } catch {
    throw new Unauthenticated(
      'The access token is invalid or has expired.',
      'Bearer error="invalid_token"',
    );
  }
}
