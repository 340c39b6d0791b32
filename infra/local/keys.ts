import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { rotateSigningKeySet } from '../../shared/auth/keys.js';

/** A new signing key set with one ES256 key, as JSON (the format of `JWT_SIGNING_KEYS`). */
export function generateSigningKeySet(): Promise<string> {
  return rotateSigningKeySet(undefined);
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
