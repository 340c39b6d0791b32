import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { CompactSign, compactVerify, createLocalJWKSet, importJWK, type JWK } from 'jose';
import {
  KEY_SET_MAX_AGE_MS,
  PublicKeySet,
  publicKeySetOf,
  rotateSigningKeySet,
  SigningKeySet,
  UNKNOWN_KID_RELOAD_INTERVAL_MS,
} from './keys.js';
import { CLOCK_TOLERANCE_SECONDS } from './tokens.js';

/** One step of a Secrets Manager rotation (AWS docs, "Lambda rotation functions"). */
export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/** The event Secrets Manager sends the rotation function, once per step. */
export interface RotationEvent {
  SecretId: string;
  ClientRequestToken: string;
  Step: RotationStep;
}

/** A secret's value and when that version was created. */
export interface StoredValue {
  value: string;
  createdAt: Date;
}

/** The few Secrets Manager calls a rotation needs, so the steps can be driven by any store. */
export interface RotationSecretStore {
  /** Rotation state and every version id with its staging labels. */
  describe(
    secretId: string,
  ): Promise<{ rotationEnabled: boolean; versions: Record<string, string[]> }>;
  /** A version's value by id or by label; undefined when it does not exist. */
  getValue(
    secretId: string,
    version: { versionId?: string; stage?: string },
  ): Promise<StoredValue | undefined>;
  /** Stores `value` as version `versionId` labelled `AWSPENDING`. */
  putPending(secretId: string, versionId: string, value: string): Promise<void>;
  /** Moves `AWSCURRENT` to `versionId` (from `fromVersionId`). */
  promote(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void>;
}

/** Where the verifiers read the public keys (a second secret, holding no private key). */
export interface PublicKeyStore {
  /** The published public JWK Set and when it was published; undefined when never. */
  read(): Promise<{ value: string; publishedAt: Date } | undefined>;
  /** Publishes `value`: from now on, what verifiers read. */
  publish(value: string): Promise<void>;
}

/**
 * How long the public key set must have been published before a key it added may sign, in
 * ms: longer than a verifier's throttle on re-reads for unknown `kid`s, so every verifier
 * can learn the new key from the first token it signs.
 */
export const PUBLICATION_LEAD_MS = UNKNOWN_KID_RELOAD_INTERVAL_MS + 10_000;
/** At most this many keys in a set, however fast rotations follow each other. */
export const MAX_KEYS = 5;

export interface RotationOptions {
  /** Keys kept after a rotation (the new one included) once the older ones are retired. */
  keep?: number;
  /** Access token lifetime in seconds (`ACCESS_TOKEN_TTL_SECONDS`): how long a retired key's tokens live. */
  accessTokenTtlSeconds?: number;
  /** Time source, replaceable in tests. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

/**
 * How long after a rotation its previous signer may still have live tokens, in ms: the new
 * key starts signing `PUBLICATION_LEAD_MS` after publication, instances switch within
 * `KEY_SET_MAX_AGE_MS`, and a token lives a TTL plus the clock tolerance.
 */
export function retiredKeyGraceMs(accessTokenTtlSeconds: number): number {
  return (
    PUBLICATION_LEAD_MS +
    KEY_SET_MAX_AGE_MS +
    (accessTokenTtlSeconds + CLOCK_TOLERANCE_SECONDS) * 1000
  );
}

/** Whether `published` (a public JWK Set) holds exactly the public keys of `signing`. */
function publishes(published: string | undefined, signing: string): boolean {
  if (!published) return false;
  const normalized = JSON.stringify(PublicKeySet.parse(JSON.parse(published)));
  return normalized === JSON.stringify(PublicKeySet.parse(JSON.parse(publicKeySetOf(signing))));
}

/** Signs a probe with the signing set's first key and verifies it with `published`. */
async function assertPublishedVerifies(signing: string, published: string): Promise<void> {
  const signer = SigningKeySet.parse(JSON.parse(signing)).keys[0] as JWK & {
    kid: string;
    alg: string;
  };
  const probe = await new CompactSign(new TextEncoder().encode('key rotation probe'))
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid })
    .sign(await importJWK(signer, signer.alg));
  await compactVerify(probe, createLocalJWKSet(PublicKeySet.parse(JSON.parse(published))));
}

/**
 * Rotates the JWT signing keys secret, one step per call, following the four-step protocol
 * of Secrets Manager rotation (AWS docs, "How rotation works"), and keeps the verifiers'
 * public key set in step:
 * - `createSecret`: a new ES256 key first, the current keys after it, stored as the pending
 *   version. Keys beyond `keep` (2) are dropped only when the current version is older than
 *   `retiredKeyGraceMs` (every token they signed has expired); else they stay (at most
 *   `MAX_KEYS`). A retried step finds the pending version and does nothing;
 * - `setSecret`: publishes the pending set's public keys to `publicKeys` (nothing when they
 *   are already published). The current key keeps signing and is in that set;
 * - `testSecret`: the pending value is a valid signing key set and the published set verifies
 *   what its first key signs;
 * - `finishSecret`: waits until the public set has been published for
 *   `PUBLICATION_LEAD_MS`, then makes the pending version current: the new key starts
 *   signing (within `KEY_SET_MAX_AGE_MS` on every signer) only once every verifier can know it.
 * Errors: rotation disabled, a token that is not a version of the secret or is neither pending
 * nor current, an invalid pending value, public keys not (or no longer) published.
 */
export async function rotateSigningKeysStep(
  store: RotationSecretStore,
  publicKeys: PublicKeyStore,
  event: RotationEvent,
  options: RotationOptions = {},
): Promise<void> {
  const { keep = 2, accessTokenTtlSeconds = 900, clock = { now: Date.now, sleep } } = options;
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
  const { rotationEnabled, versions } = await store.describe(secretId);
  if (!rotationEnabled) throw new Error(`Rotation is not enabled on ${secretId}.`);
  const stages = versions[token];
  if (!stages) throw new Error(`Version ${token} is not a version of ${secretId}.`);
  if (stages.includes('AWSCURRENT')) return; // already finished
  if (!stages.includes('AWSPENDING')) {
    throw new Error(`Version ${token} of ${secretId} is not pending rotation.`);
  }
  /** The pending value; throws when it is missing or not a valid signing key set. */
  const pending = async (): Promise<string> => {
    const value = (await store.getValue(secretId, { versionId: token }))?.value ?? '';
    SigningKeySet.parse(JSON.parse(value));
    return value;
  };

  switch (step) {
    case 'createSecret': {
      if (await store.getValue(secretId, { versionId: token })) return;
      const current = await store.getValue(secretId, { stage: 'AWSCURRENT' });
      const count = current ? (JSON.parse(current.value) as { keys: unknown[] }).keys.length : 0;
      const retired =
        !current ||
        clock.now() - current.createdAt.getTime() >= retiredKeyGraceMs(accessTokenTtlSeconds);
      const kept = retired ? keep : Math.min(MAX_KEYS, Math.max(keep, count + 1));
      await store.putPending(secretId, token, await rotateSigningKeySet(current?.value, kept));
      return;
    }
    case 'setSecret': {
      const value = await pending();
      if (!publishes((await publicKeys.read())?.value, value)) {
        await publicKeys.publish(publicKeySetOf(value));
      }
      return;
    }
    case 'testSecret': {
      const value = await pending();
      const published = await publicKeys.read();
      if (!published || !publishes(published.value, value)) {
        throw new Error(`The public keys of version ${token} are not published.`);
      }
      await assertPublishedVerifies(value, published.value);
      return;
    }
    case 'finishSecret': {
      const value = await pending();
      const published = await publicKeys.read();
      if (!published || !publishes(published.value, value)) {
        throw new Error(`The public keys of version ${token} are not published.`);
      }
      const wait = published.publishedAt.getTime() + PUBLICATION_LEAD_MS - clock.now();
      if (wait > 0) await clock.sleep(wait);
      const current = Object.entries(versions).find(([, labels]) =>
        labels.includes('AWSCURRENT'),
      )?.[0];
      await store.promote(secretId, token, current);
      return;
    }
    default:
      throw new Error(`Unknown rotation step "${step as string}".`);
  }
}

/** `RotationSecretStore` over the Secrets Manager API (AWS SDK v3). */
export function secretsManagerStore(client: SecretsManagerClient): RotationSecretStore {
  return {
    async describe(secretId) {
      const out = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      return {
        rotationEnabled: out.RotationEnabled === true,
        versions: out.VersionIdsToStages ?? {},
      };
    },
    async getValue(secretId, { versionId, stage }) {
      try {
        const out = await client.send(
          new GetSecretValueCommand({
            SecretId: secretId,
            VersionId: versionId,
            VersionStage: stage,
          }),
        );
        return out.SecretString === undefined
          ? undefined
          : { value: out.SecretString, createdAt: out.CreatedDate ?? new Date(0) };
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    async putPending(secretId, versionId, value) {
      await client.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: versionId,
          SecretString: value,
          VersionStages: ['AWSPENDING'],
        }),
      );
    },
    async promote(secretId, versionId, fromVersionId) {
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: versionId,
          RemoveFromVersionId: fromVersionId,
        }),
      );
    },
  };
}

/**
 * `PublicKeyStore` over a Secrets Manager secret that holds only the public JWK Set: a
 * publication is a new current version, its `CreatedDate` the publication time.
 */
export function publicKeySecret(client: SecretsManagerClient, secretId: string): PublicKeyStore {
  return {
    async read() {
      try {
        const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
        return out.SecretString === undefined
          ? undefined
          : { value: out.SecretString, publishedAt: out.CreatedDate ?? new Date(0) };
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    async publish(value) {
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    },
  };
}
