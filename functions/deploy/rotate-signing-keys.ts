import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type RotationEvent,
  rotateSigningKeysStep,
  secretsManagerStore,
} from '../../shared/auth/key-rotation.js';
import { logger } from '../../shared/logger.js';

const store = secretsManagerStore(new SecretsManagerClient({}));

/** Secrets Manager rotation function of the JWT signing keys secret (one step per call). */
export const handler = async (event: RotationEvent): Promise<void> => {
  logger.info('rotating signing keys', { step: event.Step, version: event.ClientRequestToken });
  await rotateSigningKeysStep(store, event);
};
