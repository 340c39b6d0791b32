import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import * as z from 'zod/mini';
import { ConfigError, getConfig } from '../config.js';
import { ServiceUnavailable } from '../errors.js';
import { logger } from '../logger.js';
import { readSecretString } from '../secrets.js';
import { useEnglishMessages } from '../zod-english.js';

// A malformed key set fails with zod's error, whose messages are logged: in English, as ever.
useEnglishMessages();

/** Asymmetric JWS algorithms accepted for access tokens (API.md § Auth; RFC 7518, RFC 8037). */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** The public members of an EC (RFC 7518 §6.2) or OKP (RFC 8037 §2) signing key. */
const publicMembers = {
  kty: z.enum(['EC', 'OKP']),
  kid: z.string().check(z.minLength(1), z.maxLength(128)),
  alg: z.enum(SIGNING_ALGORITHMS),
  crv: z.enum(['P-256', 'Ed25519']),
  x: z.string().check(z.minLength(1)),
  y: z.optional(z.string().check(z.minLength(1))),
};

const PrivateJwk = z.looseObject({ ...publicMembers, d: z.string().check(z.minLength(1)) });
const PublicJwk = z
  .looseObject(publicMembers)
  .check(z.refine((jwk) => !('d' in jwk), 'a public key set must not hold a private key (`d`)'));

/** The signing key set's format: a JWK Set (RFC 7517 §5) of private keys; `keys[0]` signs. */
export const SigningKeySet = z.object({ keys: z.array(PrivateJwk).check(z.minLength(1)) });

/**
 * The verifiers' key set: public keys only (no `d`). Empty until the first rotation of a new
 * stage has published its key (every token is then rejected).
 */
export const PublicKeySet = z.object({ keys: z.array(PublicJwk) });

/** How long an instance uses a key set before it reads it again, in ms (5 minutes). */
export const KEY_SET_MAX_AGE_MS = 300_000;
/**
 * Least time between two reads forced by tokens naming a `kid` this instance does not know,
 * in ms: a rotation's new key is learnt at most this long after it is published, and random
 * `kid`s cost at most one Secrets Manager call per instance per interval.
 */
export const UNKNOWN_KID_RELOAD_INTERVAL_MS = 60_000;
/** After a failed re-read the loaded set stays in use; the next attempt waits this long, ms. */
const RETRY_AFTER_MS = 10_000;

/** The public part of each key of `keys`, as served at `/.well-known/jwks.json`. */
function toPublicJwks(keys: z.output<typeof PublicJwk>[]): JSONWebKeySet {
  return {
    keys: keys.map(({ kty, kid, alg, crv, x, y }) =>
      y === undefined
        ? { kty, kid, alg, crv, x, use: 'sig' }
        : { kty, kid, alg, crv, x, y, use: 'sig' },
    ),
  };
}

/**
 * The public JWK Set of a signing key set (both JSON): each key's public members only, in
 * the same order. What the rotation publishes for verifiers and what the local cloud and the
 * tests give them as `JWT_PUBLIC_KEYS`. Errors: zod errors for a malformed signing set.
 */
export function publicKeySetOf(signingKeySet: string): string {
  return JSON.stringify(toPublicJwks(SigningKeySet.parse(JSON.parse(signingKeySet)).keys));
}

/** Where a key set comes from: inline JSON (local, tests) or a Secrets Manager secret (AWS). */
interface KeySetSource {
  json: string | undefined;
  secretArn: string | undefined;
  /** The `ConfigError` message when neither is set. */
  missing: string;
}

/**
 * The key set's JSON. Errors: `ConfigError` when no source is set; `ServiceUnavailable` (a
 * 503 with `Retry-After`) when Secrets Manager does not answer or refuses.
 */
async function readKeySet(source: KeySetSource): Promise<string> {
  if (source.json) return source.json;
  if (!source.secretArn) throw new ConfigError(source.missing);
  try {
    return await readSecretString(source.secretArn);
  } catch (error) {
    logger.error('reading a key set from Secrets Manager failed', {
      error: error instanceof Error ? error.message : String(error),
    });
    throw new ServiceUnavailable('The token keys are briefly unavailable. Try again shortly.');
  }
}

/**
 * One key set of this instance, parsed once and read again when it is older than
 * `KEY_SET_MAX_AGE_MS` or when `reload` asks. A failed re-read keeps the loaded set (a
 * Secrets Manager blip must not stop signing or verifying) and is retried after 10 s; a
 * failed first read throws (`ServiceUnavailable`, or the zod error of a malformed set).
 */
class KeySetCache<T> {
  private entry: { raw: string; value: T; readAt: number } | undefined;
  private attemptedAt = 0;
  private forced = false;
  private reading: Promise<T> | undefined;

  constructor(
    private readonly source: () => KeySetSource,
    private readonly build: (raw: string) => Promise<T>,
  ) {}

  get(): Promise<T> {
    const now = Date.now();
    const fresh =
      this.entry &&
      !this.forced &&
      (now - this.entry.readAt < KEY_SET_MAX_AGE_MS || now - this.attemptedAt < RETRY_AFTER_MS);
    if (fresh && this.entry) return Promise.resolve(this.entry.value);
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  /** Makes the next `get` read the set again unless the last read is younger than `minAgeMs`. */
  reload(minAgeMs: number): boolean {
    if (!this.entry || Date.now() - this.attemptedAt < minAgeMs) return false;
    this.forced = true;
    return true;
  }

  private async read(): Promise<T> {
    const previous = this.entry;
    this.forced = false;
    this.attemptedAt = Date.now();
    try {
      const raw = await readKeySet(this.source());
      if (previous && raw === previous.raw) {
        previous.readAt = Date.now();
        return previous.value;
      }
      const value = await this.build(raw);
      this.entry = { raw, value, readAt: Date.now() };
      return value;
    } catch (error) {
      if (!previous || error instanceof ConfigError) throw error;
      logger.warn('reading the key set failed; the loaded one stays in use', {
        error: error instanceof Error ? error.message : String(error),
      });
      return previous.value;
    }
  }
}

/** The key that signs: `keys[0]` of the signing key set. */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  key: Awaited<ReturnType<typeof importJWK>>;
}

/** The public keys that verify, from the public key set. */
export interface VerificationKeys {
  /** The set as served at `/.well-known/jwks.json`. */
  publicJwks: JSONWebKeySet;
  /** jose key resolver over `publicJwks`: picks the key by the token's `kid` and `alg` only. */
  resolveKey: ReturnType<typeof createLocalJWKSet>;
  /** The algorithms of those keys (jose `algorithms`: anything else is rejected). */
  algorithms: SigningAlgorithm[];
  kids: ReadonlySet<string>;
}

const signing = new KeySetCache<SigningKey>(
  () => ({
    json: getConfig().JWT_SIGNING_KEYS,
    secretArn: getConfig().JWT_SIGNING_KEYS_SECRET_ARN,
    missing:
      'This function signs access tokens: set JWT_SIGNING_KEYS (a JWK Set) or JWT_SIGNING_KEYS_SECRET_ARN.',
  }),
  async (raw) => {
    // A new stage's secret holds `{"keys":[]}` until its first rotation has finished.
    if (raw === '' || /^\s*\{\s*"keys"\s*:\s*\[\s*\]\s*\}\s*$/.test(raw)) {
      throw new ServiceUnavailable(
        'No signing key yet (first rotation pending). Try again shortly.',
      );
    }
    const current = SigningKeySet.parse(JSON.parse(raw)).keys[0] as z.output<typeof PrivateJwk>;
    return {
      kid: current.kid,
      alg: current.alg,
      key: await importJWK(current as JWK, current.alg),
    };
  },
);

const verification = new KeySetCache<VerificationKeys>(
  () => ({
    json: getConfig().JWT_PUBLIC_KEYS,
    secretArn: getConfig().JWT_PUBLIC_KEYS_SECRET_ARN,
    missing:
      'This function verifies access tokens: set JWT_PUBLIC_KEYS (a public JWK Set) or JWT_PUBLIC_KEYS_SECRET_ARN.',
  }),
  async (raw) => {
    const { keys } = PublicKeySet.parse(JSON.parse(raw));
    const publicJwks = toPublicJwks(keys);
    return {
      publicJwks,
      resolveKey: createLocalJWKSet(publicJwks),
      algorithms: [...new Set(keys.map((k) => k.alg))],
      kids: new Set(keys.map((k) => k.kid)),
    };
  },
);

/**
 * The key this instance signs with, from the PRIVATE signing key set: `JWT_SIGNING_KEYS`
 * (local, tests) or the secret `JWT_SIGNING_KEYS_SECRET_ARN` (AWS; only the functions that
 * sign tokens may read it). Read again every 5 minutes, so a rotation's new key signs
 * everywhere within that. Errors: `ConfigError` when neither is set, Secrets Manager errors
 * and zod errors for a malformed set on the first read.
 */
export function getSigningKey(): Promise<SigningKey> {
  return signing.get();
}

/**
 * The public keys this instance verifies with, from the PUBLIC key set: `JWT_PUBLIC_KEYS`
 * (local, tests) or the secret `JWT_PUBLIC_KEYS_SECRET_ARN` (AWS), never the private keys.
 * Read again every 5 minutes, and sooner through `reloadVerificationKeys`. Errors: as
 * `getSigningKey`.
 */
export function getVerificationKeys(): Promise<VerificationKeys> {
  return verification.get();
}

/**
 * Asks for the public key set to be read again at the next `getVerificationKeys`, for a token
 * whose `kid` is unknown here (a rotation may have published it since the last read); at
 * most once per `minAgeMs`. Returns whether it will.
 */
export function reloadVerificationKeys(minAgeMs = UNKNOWN_KID_RELOAD_INTERVAL_MS): boolean {
  return verification.reload(minAgeMs);
}

/** A new ES256 private signing key as a JWK, `kid` = its RFC 7638 thumbprint. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: 'ES256', use: 'sig' };
}

/**
 * Key rotation: a new signing key first, followed by the current keys, at most `keep` in
 * all (default 2: the new one signs, the previous one still verifies tokens it signed until
 * they expire). Takes and returns a JWK Set as JSON; `current` may be empty (first key).
 */
export async function rotateSigningKeySet(current: string | undefined, keep = 2): Promise<string> {
  // An empty set (`{"keys":[]}`, as a new stack's secret starts) just gets its first key.
  const existing = current
    ? z.object({ keys: z.array(PrivateJwk) }).parse(JSON.parse(current)).keys
    : [];
  const keys = [await generateSigningKey(), ...existing].slice(0, Math.max(1, keep));
  return JSON.stringify({ keys });
}
