/**
 * The text of an API key: `sk_<stage>_<prefix id><secret>`, where the prefix id is 10 base62
 * characters (≈ 59 bits, public: a lookup handle, shown in lists) and the secret 43 base62
 * characters holding 256 random bits. Only the SHA-256 hash of the whole key is stored.
 *
 * Why SHA-256 and not argon2: a slow, salted hash protects low-entropy secrets (passwords)
 * against guessing after a database leak. A key's 256 random bits cannot be guessed at any
 * hash speed, so a fast hash loses nothing, and it keeps every keyed request cheap (argon2
 * would cost tens of milliseconds and memory on each one).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PREFIX_ID_LENGTH = 10;
/** ⌈256 / log2(62)⌉ characters hold 256 bits. */
const SECRET_LENGTH = 43;
const KEY_PATTERN = /^sk_[a-z][a-z0-9-]{0,20}_[0-9A-Za-z]{53}$/;

/** `bytes` as exactly `length` base62 digits (big-endian; `bytes` must fit). */
function base62(bytes: Buffer, length: number): string {
  let value = BigInt(`0x${bytes.toString('hex') || '0'}`);
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

/** Uniform base62 characters by rejection sampling (no modulo bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

/** Whether `text` has the shape of one of our keys (any stage). */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith('sk_');
}

export interface NewKey {
  key: string;
  prefix: string;
  hash: Buffer;
}

/** A new key of `stage`: its text (shown once), public prefix and stored hash. */
export function generateKey(stage: string): NewKey {
  const prefix = `sk_${stage}_${randomBase62(PREFIX_ID_LENGTH)}`;
  // 32 random bytes (256 bits) < 62^43, so every value has its 43 digits.
  const key = `${prefix}${base62(randomBytes(32), SECRET_LENGTH)}`;
  return { key, prefix, hash: hashKey(key) };
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** The public prefix of a well-formed key, or null. */
export function prefixOf(key: string): string | null {
  if (!KEY_PATTERN.test(key)) return null;
  return key.slice(0, key.length - SECRET_LENGTH);
}

/** Hash of nothing we ever issue: compared against when the prefix is unknown. */
const DUMMY_HASH = hashKey('sk_none_unknown');

/**
 * Whether `key` hashes to `stored`, in constant time. With `stored` null (unknown prefix)
 * the same hash and comparison run against a dummy, so unknown keys cost the same work.
 */
export function keyMatches(key: string, stored: Buffer | null): boolean {
  const presented = hashKey(key);
  const expected = stored && stored.length === presented.length ? stored : DUMMY_HASH;
  return timingSafeEqual(presented, expected) && stored !== null;
}
