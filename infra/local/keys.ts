import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

/**
 * A new ES256 signing key set (JWK Set with one private key). `kid` is the key's RFC 7638
 * thumbprint. Returns the set as JSON, the format of `JWT_SIGNING_KEYS`.
 */
export async function generateSigningKeySet(): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return JSON.stringify({ keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] });
}

/**
 * The local signing key set stored in `file` (git-ignored, mode 0600), created on first use.
 */
export async function loadOrCreateSigningKeySet(file: string): Promise<string> {
  if (existsSync(file)) return readFile(file, 'utf8');
  const keys = await generateSigningKeySet();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, keys, { mode: 0o600 });
  return keys;
}
