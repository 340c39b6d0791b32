import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  publicKeySecret,
  type RotationEvent,
  rotateSigningKeysStep,
  secretsManagerStore,
} from '../../shared/auth/key-rotation.js';
import { ConfigError, getConfig } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';

const client = new SecretsManagerClient({});
const store = secretsManagerStore(client);

/**
 * Secrets Manager rotation function of the JWT signing keys secret (one step per call). It
 * also publishes the public keys to `JWT_PUBLIC_KEYS_SECRET_ARN`, the secret verifiers read,
 * before the new key may sign. Errors: `ConfigError` without that variable; step errors.
 */
export const handler = async (event: RotationEvent): Promise<void> => {
  const { JWT_PUBLIC_KEYS_SECRET_ARN: publicSecret, ACCESS_TOKEN_TTL_SECONDS } = getConfig();
  if (!publicSecret) {
    throw new ConfigError('Set JWT_PUBLIC_KEYS_SECRET_ARN: where the public keys are published.');
  }
  logger.info('rotating signing keys', { step: event.Step, version: event.ClientRequestToken });
  await rotateSigningKeysStep(store, publicKeySecret(client, publicSecret), event, {
    accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
  });
};
