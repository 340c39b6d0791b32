import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { getConfig } from '../config.js';
import { Unauthenticated } from '../errors.js';
import { getKeyRing, reloadKeyRing } from './keys.js';

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
}

/** The JWT `typ` header of access tokens (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Allowed clock skew when checking `exp`, `nbf` and `iat`, in seconds (API.md § Auth). */
export const CLOCK_TOLERANCE_SECONDS = 30;

const AccessTokenPayload = z.object({
  sub: z.uuid(),
  role: Role,
  jti: z.string().min(1).max(128),
  exp: z.number(),
});

/**
 * Signs an access token for `user`: header `{alg, kid, typ: "at+jwt"}`, claims
 * `iss, aud, sub, role, jti, iat, exp` (RFC 9068). Returns the compact JWS and its lifetime
 * in seconds.
 */
export async function issueAccessToken(user: {
  id: string;
  role: Role;
}): Promise<{ token: string; expiresIn: number }> {
  const config = getConfig();
  const keys = await getKeyRing();
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ role: user.role })
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setSubject(user.id)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + config.ACCESS_TOKEN_TTL_SECONDS)
    .sign(keys.signingKey);
  return { token, expiresIn: config.ACCESS_TOKEN_TTL_SECONDS };
}

/**
 * Verifies a compact JWS access token as API.md § Auth requires: algorithm pinned to the key
 * set's asymmetric algorithms (so `none` and HS* fail), key chosen by `kid` from our own
 * JWKS only (`jku`, `x5u` and `jwk` headers are never used), `iss`, `aud` and `typ` pinned,
 * `exp`, `iat`, `sub` and `jti` required, 30 s clock tolerance (RFC 8725 §3.1–3.11).
 *
 * Errors: `Unauthenticated` with an RFC 6750 `invalid_token` challenge; never says why.
 */
export async function verifyAccessToken(token: string): Promise<Principal> {
  const config = getConfig();
  let keys = await getKeyRing();
  try {
    const header = decodeProtectedHeader(token);
    if (header.kid && !keys.publicJwks.keys.some((k) => k.kid === header.kid) && reloadKeyRing()) {
      keys = await getKeyRing(); // a rotation may have added it since this instance loaded
    }
    const { payload } = await jwtVerify(token, keys.resolveKey, {
      algorithms: keys.algorithms,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      typ: ACCESS_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    const claims = AccessTokenPayload.parse(payload);
    return { userId: claims.sub, role: claims.role, tokenId: claims.jti, expiresAt: claims.exp };
  } catch {
    throw new Unauthenticated(
      'The access token is invalid or has expired.',
      'Bearer error="invalid_token"',
    );
  }
}
