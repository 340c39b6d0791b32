import { importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACCESS_TOKEN_TYPE, CLOCK_TOLERANCE_SECONDS } from '../../shared/auth/tokens.js';

/**
 * Access token verification against crafted claims, signed with the real private key of the
 * test environment's key set (so only the claim under test is wrong), and verified with the
 * public key set only.
 */
const env = { ...process.env };
afterEach(() => {
  process.env = { ...env };
  vi.resetModules();
});

const TTL = Number(process.env.ACCESS_TOKEN_TTL_SECONDS ?? 900);
const signingKey = JSON.parse(process.env.JWT_SIGNING_KEYS as string).keys[0] as JWK & {
  kid: string;
};
const userId = crypto.randomUUID();

/** A fresh copy of the token module (and so of config and keys) for the current env. */
async function instance() {
  vi.resetModules();
  return import('../../shared/auth/tokens.js');
}

/**
 * A token signed with our real key, valid unless `times` say otherwise: `iat` a number (the
 * default: now), a string (sent as is) or null (left out); `exp` defaults to `iat` + TTL.
 */
async function craft(times: { iat?: number | string | null; exp?: number } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const iat = times.iat === undefined ? now : times.iat;
  // A string `iat` is not a JWTPayload (that is the point): passed through `unknown`.
  const payload = { role: 'user', ...(typeof iat === 'string' ? { iat } : {}) } as unknown;
  const jwt = new SignJWT(payload as JWTPayload)
    .setProtectedHeader({ alg: 'ES256', kid: signingKey.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(process.env.JWT_ISSUER as string)
    .setAudience(process.env.JWT_AUDIENCE as string)
    .setSubject(userId)
    .setJti(crypto.randomUUID())
    .setExpirationTime(times.exp ?? (typeof iat === 'number' ? iat : now) + TTL);
  if (typeof iat === 'number') jwt.setIssuedAt(iat);
  return jwt.sign(await importJWK(signingKey, 'ES256'));
}

const now = () => Math.floor(Date.now() / 1000);

describe('access token verification: iat and lifetime', () => {
  it('accepts a token our signer issues, and one crafted the same way', async () => {
    const { issueAccessToken, verifyAccessToken } = await instance();
    const issued = await issueAccessToken({ id: userId, role: 'admin' });
    await expect(verifyAccessToken(issued.token)).resolves.toMatchObject({ userId, role: 'admin' });
    await expect(verifyAccessToken(await craft())).resolves.toMatchObject({ userId });
  });

  it('rejects an iat more than 30 s in the future, accepts one within the skew', async () => {
    const { verifyAccessToken } = await instance();
    await expect(verifyAccessToken(await craft({ iat: now() + 120 }))).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
    await expect(
      verifyAccessToken(await craft({ iat: now() + CLOCK_TOLERANCE_SECONDS + 30 })),
    ).rejects.toMatchObject({ kind: 'unauthenticated' });
    // A signer whose clock runs a little ahead (within the tolerance) is still fine.
    await expect(
      verifyAccessToken(await craft({ iat: now() + CLOCK_TOLERANCE_SECONDS - 10 })),
    ).resolves.toMatchObject({ userId });
  });

  it('rejects a lifetime (exp - iat) longer than ACCESS_TOKEN_TTL_SECONDS, even by a second', async () => {
    const { verifyAccessToken } = await instance();
    const iat = now();
    await expect(verifyAccessToken(await craft({ iat, exp: iat + TTL }))).resolves.toMatchObject({
      userId,
    });
    for (const lifetime of [TTL + 1, TTL + CLOCK_TOLERANCE_SECONDS, 86_400, 10 * 365 * 86_400]) {
      await expect(
        verifyAccessToken(await craft({ iat, exp: iat + lifetime })),
        `lifetime ${lifetime}`,
      ).rejects.toMatchObject({ kind: 'unauthenticated' });
    }
  });

  it('rejects an old iat with a far exp (a long-lived token minted with a stolen key)', async () => {
    const { verifyAccessToken } = await instance();
    await expect(
      verifyAccessToken(await craft({ iat: now() - 2 * TTL, exp: now() + 60 })),
    ).rejects.toMatchObject({ kind: 'unauthenticated' });
  });

  it('rejects a token without iat, or with a non-numeric one', async () => {
    const { verifyAccessToken } = await instance();
    for (const iat of [null, String(now())]) {
      await expect(
        verifyAccessToken(await craft({ iat, exp: now() + 60 })),
        `iat ${iat}`,
      ).rejects.toMatchObject({ kind: 'unauthenticated' });
    }
  });

  it('follows a configured TTL: a shorter ACCESS_TOKEN_TTL_SECONDS rejects a longer lifetime', async () => {
    process.env.ACCESS_TOKEN_TTL_SECONDS = '300';
    const { verifyAccessToken, issueAccessToken } = await instance();
    const iat = now();
    await expect(verifyAccessToken(await craft({ iat, exp: iat + 301 }))).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
    const issued = await issueAccessToken({ id: userId, role: 'user' });
    expect(issued.expiresIn).toBe(300);
    await expect(verifyAccessToken(issued.token)).resolves.toMatchObject({ userId });
  });
});

describe('keys: signers and verifiers', () => {
  it('a stage whose first rotation has not finished (empty key set) answers 503, not 500', async () => {
    process.env.JWT_SIGNING_KEYS = JSON.stringify({ keys: [] });
    const { issueAccessToken } = await instance();
    await expect(issueAccessToken({ id: userId, role: 'user' })).rejects.toMatchObject({
      kind: 'unavailable',
      extra: { headers: { 'Retry-After': '5' } },
    });
  });

  it('verifies with the public key set alone: no private key in the environment', async () => {
    const token = await craft();
    delete process.env.JWT_SIGNING_KEYS;
    delete process.env.JWT_SIGNING_KEYS_SECRET_ARN;
    const { verifyAccessToken, issueAccessToken } = await instance();
    await expect(verifyAccessToken(token)).resolves.toMatchObject({ userId });
    // And it cannot sign.
    await expect(issueAccessToken({ id: userId, role: 'user' })).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/JWT_SIGNING_KEYS/),
    });
  });

  it('never mistakes a missing public key set for a bad token: a ConfigError, not a 401', async () => {
    const token = await craft();
    delete process.env.JWT_PUBLIC_KEYS;
    delete process.env.JWT_PUBLIC_KEYS_SECRET_ARN;
    const { verifyAccessToken } = await instance();
    await expect(verifyAccessToken(token)).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/JWT_PUBLIC_KEYS/),
    });
  });

  it('refuses a "public" key set that holds a private key', async () => {
    process.env.JWT_PUBLIC_KEYS = process.env.JWT_SIGNING_KEYS as string;
    const { getVerificationKeys } = await import('../../shared/auth/keys.js');
    await expect(getVerificationKeys()).rejects.toThrow(/private key/);
  });

  it('derives the public set from the signing set: same kids and public members, no d', async () => {
    const { publicKeySetOf } = await import('../../shared/auth/keys.js');
    const published = JSON.parse(publicKeySetOf(process.env.JWT_SIGNING_KEYS as string));
    expect(published).toEqual(JSON.parse(process.env.JWT_PUBLIC_KEYS as string));
    const { d, ...rest } = signingKey;
    expect(d).toEqual(expect.any(String));
    expect(published.keys[0]).toEqual({
      kty: rest.kty,
      kid: rest.kid,
      alg: rest.alg,
      crv: rest.crv,
      x: rest.x,
      y: rest.y,
      use: 'sig',
    });
  });
});
