import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { z } from 'zod';
import { getConfig } from '../config.js';

/** Asymmetric JWS algorithms accepted for access tokens (API.md § Auth; RFC 7518, RFC 8037). */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA'] as const;

const PrivateJwk = z.looseObject({
  kty: z.enum(['EC', 'OKP']),
  kid: z.string().min(1).max(128),
  alg: z.enum(SIGNING_ALGORITHMS),
  crv: z.enum(['P-256', 'Ed25519']),
  x: z.string().min(1),
  y: z.string().min(1).optional(),
  d: z.string().min(1),
});

/** The signing key set's format: a JWK Set (RFC 7517 §5) of private keys; `keys[0]` signs. */
export const SigningKeySet = z.object({ keys: z.array(PrivateJwk).min(1) });

export interface KeyRing {
  /** `kid` and `alg` of the current signing key. */
  kid: string;
  alg: (typeof SIGNING_ALGORITHMS)[number];
  signingKey: Awaited<ReturnType<typeof importJWK>>;
  /** Public parts of every key in the set, as served at `/.well-known/jwks.json`. */
  publicJwks: JSONWebKeySet;
  /** jose key resolver over `publicJwks`: picks the key by the token's `kid` and `alg` only. */
  resolveKey: ReturnType<typeof createLocalJWKSet>;
  algorithms: string[];
}

let loading: Promise<KeyRing> | undefined;
let loadedAt = 0;
/** Set by `reloadKeyRing`: the next load skips the Powertools secret cache. */
let bypassSecretCache = false;

/**
 * The instance's key ring, loaded once: from `JWT_SIGNING_KEYS` (local, tests) or from the
 * Secrets Manager secret `JWT_SIGNING_KEYS_SECRET_ARN` (AWS). A failed load is retried on
 * the next call. Errors: `ConfigError`, zod errors for a malformed key set.
 */
export function getKeyRing(): Promise<KeyRing> {
  if (!loading) {
    loadedAt = Date.now();
    loading = loadKeyRing().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
  }
  return loading;
}

/**
 * Loads the key ring again when the current one is older than `minAgeMs` (a token with an
 * unknown `kid` may come from a key added by a rotation since this instance started).
 * Returns whether it reloaded.
 */
export function reloadKeyRing(minAgeMs = 60_000): boolean {
  if (!loading || Date.now() - loadedAt < minAgeMs) return false;
  loading = undefined;
  bypassSecretCache = true;
  return true;
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

async function loadKeyRing(): Promise<KeyRing> {
  const config = getConfig();
  let raw = config.JWT_SIGNING_KEYS;
  if (!raw && config.JWT_SIGNING_KEYS_SECRET_ARN) {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    raw = (await getSecret(config.JWT_SIGNING_KEYS_SECRET_ARN, {
      maxAge: 300,
      forceFetch: bypassSecretCache,
    })) as string;
  }
  bypassSecretCache = false;
  const set = SigningKeySet.parse(JSON.parse(raw ?? ''));
  const current = set.keys[0] as z.output<typeof PrivateJwk>;
  const publicKeys: JWK[] = set.keys.map(({ kty, kid, alg, crv, x, y }) =>
    y === undefined
      ? { kty, kid, alg, crv, x, use: 'sig' }
      : { kty, kid, alg, crv, x, y, use: 'sig' },
  );
  const publicJwks = { keys: publicKeys };
  return {
    kid: current.kid,
    alg: current.alg,
    signingKey: await importJWK(current as JWK, current.alg),
    publicJwks,
    resolveKey: createLocalJWKSet(publicJwks),
    algorithms: [...new Set(set.keys.map((k) => k.alg))],
  };
}
