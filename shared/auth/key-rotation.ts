import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { rotateSigningKeySet, SigningKeySet } from './keys.js';

/** One step of a Secrets Manager rotation (AWS docs, "Lambda rotation functions"). */
export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/** The event Secrets Manager sends the rotation function, once per step. */
export interface RotationEvent {
  SecretId: string;
  ClientRequestToken: string;
  Step: RotationStep;
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
  ): Promise<string | undefined>;
  /** Stores `value` as version `versionId` labelled `AWSPENDING`. */
  putPending(secretId: string, versionId: string, value: string): Promise<void>;
  /** Moves `AWSCURRENT` to `versionId` (from `fromVersionId`). */
  promote(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void>;
}

/**
 * Rotates the JWT signing keys secret, one step per call, following the four-step protocol
 * of Secrets Manager rotation (AWS docs, "How rotation works"):
 * - `createSecret`: a new ES256 key first, the current keys after it (at most `keep`), stored
 *   as the pending version; a retried step finds the pending version and does nothing;
 * - `setSecret`: nothing: the functions read the secret itself;
 * - `testSecret`: the pending value must be a valid signing key set;
 * - `finishSecret`: the pending version becomes current.
 * The previous key stays in the set so tokens it signed verify until they expire; functions
 * pick the new set up within their secret cache (5 minutes), or at once when a token
 * carries an unknown `kid`. Errors: rotation disabled, a token that is not a version of the
 * secret or is neither pending nor current, an invalid pending value.
 */
export async function rotateSigningKeysStep(
  store: RotationSecretStore,
  event: RotationEvent,
  keep = 2,
): Promise<void> {
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
  const { rotationEnabled, versions } = await store.describe(secretId);
  if (!rotationEnabled) throw new Error(`Rotation is not enabled on ${secretId}.`);
  const stages = versions[token];
  if (!stages) throw new Error(`Version ${token} is not a version of ${secretId}.`);
  if (stages.includes('AWSCURRENT')) return; // already finished
  if (!stages.includes('AWSPENDING')) {
    throw new Error(`Version ${token} of ${secretId} is not pending rotation.`);
  }

  switch (step) {
    case 'createSecret': {
      if (await store.getValue(secretId, { versionId: token })) return;
      const current = await store.getValue(secretId, { stage: 'AWSCURRENT' });
      await store.putPending(secretId, token, await rotateSigningKeySet(current, keep));
      return;
    }
    case 'setSecret':
      return;
    case 'testSecret': {
      const pending = await store.getValue(secretId, { versionId: token });
      SigningKeySet.parse(JSON.parse(pending ?? ''));
      return;
    }
    case 'finishSecret': {
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
        return out.SecretString;
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
