import { afterEach, describe, expect, it, vi } from 'vitest';
import { rotateSigningKeySet } from '../../shared/auth/keys.js';

const original = process.env.JWT_SIGNING_KEYS as string;
afterEach(() => {
  process.env.JWT_SIGNING_KEYS = original;
  vi.resetModules();
});

/** A fresh copy of the token module (and so of config and key ring) for the current env. */
async function instance() {
  vi.resetModules();
  return import('../../shared/auth/tokens.js');
}

const user = { id: crypto.randomUUID(), role: 'user' as const };
const kidOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid;

describe('signing key rotation', () => {
  it('puts a new signer first and keeps the previous key, at most `keep` keys', async () => {
    const once = await rotateSigningKeySet(original);
    const twice = await rotateSigningKeySet(once);
    const kids = (set: string) => JSON.parse(set).keys.map((k: { kid: string }) => k.kid);
    expect(kids(once)).toHaveLength(2);
    expect(kids(once)[1]).toBe(kids(original)[0]);
    expect(kids(twice)).toEqual([kids(twice)[0], kids(once)[0]]);
    expect(kids(await rotateSigningKeySet(twice, 3))).toHaveLength(3);
  });

  it('tokens signed by the old key keep verifying after a rotation; new ones use the new kid', async () => {
    const before = await instance();
    const old = await before.issueAccessToken(user);

    process.env.JWT_SIGNING_KEYS = await rotateSigningKeySet(original);
    const after = await instance();
    await expect(after.verifyAccessToken(old.token)).resolves.toMatchObject({ userId: user.id });
    const fresh = await after.issueAccessToken(user);
    expect(kidOf(fresh.token)).not.toBe(kidOf(old.token));
    await expect(after.verifyAccessToken(fresh.token)).resolves.toMatchObject({ userId: user.id });
  });

  it('once its key is dropped from the set (two rotations later), an old token is 401', async () => {
    const before = await instance();
    const old = await before.issueAccessToken(user);
    process.env.JWT_SIGNING_KEYS = await rotateSigningKeySet(await rotateSigningKeySet(original));
    const after = await instance();
    await expect(after.verifyAccessToken(old.token)).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
  });
});
