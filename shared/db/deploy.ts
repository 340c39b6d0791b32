import postgres from 'postgres';
import * as z from 'zod/mini';
import { getMigrationConfig, type MigrationConfig } from '../config.js';
import { logger } from '../logger.js';
import { useEnglishMessages } from '../zod-english.js';
import { iamAuthTokenFor, lambdaCredentials, withPassword } from './iam-auth.js';
import { grantAppRole, migrate, type RoleCredentials } from './migrations.js';

// Malformed credentials fail the deploy with zod's error: its messages in English, as ever.
useEnglishMessages();

const Credentials = z.looseObject({
  username: z.string().check(z.minLength(1)),
  password: z.string().check(z.minLength(1)),
});

/** The application role's credentials: `APP_DATABASE_CREDENTIALS`, else its secret. */
async function appRoleCredentials(config: MigrationConfig): Promise<RoleCredentials> {
  if (config.APP_DATABASE_CREDENTIALS) {
    return Credentials.parse(JSON.parse(config.APP_DATABASE_CREDENTIALS));
  }
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  return Credentials.parse(
    await getSecret(config.APP_DATABASE_SECRET_ARN as string, {
      transform: 'json',
      forceFetch: true,
    }),
  );
}

/**
 * What the deploy-time trigger does (run by CloudFormation before the functions are
 * updated): applies pending migrations as the schema's owner (node-pg-migrate, each in its
 * own transaction, under its advisory lock), then creates or updates the application's
 * login role and its grants (`grantAppRole`). With `DATABASE_IAM_AUTH` the owner connects
 * to RDS Proxy with an IAM token. Returns the migrations applied and the role's name.
 * Errors: `ConfigError`, connection and migration errors (the deploy fails and rolls back).
 */
export async function migrateOnDeploy(): Promise<{ applied: string[]; role: string }> {
  const config = getMigrationConfig();
  const databaseUrl = config.DATABASE_IAM_AUTH
    ? withPassword(
        config.DATABASE_URL,
        await iamAuthTokenFor(config.DATABASE_URL, config.AWS_REGION, () =>
          lambdaCredentials(config),
        )(),
      )
    : config.DATABASE_URL;
  const applied = await migrate({
    databaseUrl,
    direction: 'up',
    log: (message) => logger.debug(message),
  });
  const role = await appRoleCredentials(config);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await grantAppRole(sql, role);
  } finally {
    await sql.end();
  }
  logger.info('database migrated', { applied, role: role.username });
  return { applied, role: role.username };
}
