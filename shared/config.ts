import { z } from 'zod';

/** The database connection, shared by the functions and the migration trigger. */
const databaseVariables = {
  /**
   * `postgres://user[:pass]@host:port/db[?sslmode=…]`. In AWS: RDS Proxy's endpoint with
   * `sslmode=verify-full` and no password (see `DATABASE_IAM_AUTH`).
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
  /**
   * `true`: authenticate with an RDS IAM token made for each new connection (AWS docs,
   * "IAM database authentication" for RDS Proxy) instead of a password in the URL.
   */
  DATABASE_IAM_AUTH: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** AWS region (set by the Lambda runtime); signs IAM tokens and SQS requests. */
  AWS_REGION: z.string().min(1).default('us-east-1'),
};

/**
 * The process environment, parsed once by zod. This is the only module that reads
 * `process.env`; everything else asks `getConfig()`.
 *
 * Errors: throws `ConfigError` naming every missing or malformed variable, so a Lambda
 * fails its init phase with a readable message instead of a runtime `undefined`.
 */
const Environment = z
  .object({
    /** Deployment stage: `local` for the local cloud and tests, else the CDK stage name. */
    STAGE: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,20}$/)
      .default('local'),
    ...databaseVariables,
    /** Connections per Lambda instance. 1 in AWS (one request at a time per instance). */
    DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(1),
    /** Seconds before an unused connection is closed (postgres.js `idle_timeout`). */
    DB_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(3600).default(20),
    /** Seconds to wait for a new connection (postgres.js `connect_timeout`). */
    DB_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(5),
    /** `iss` claim of access tokens (RFC 7519 §4.1.1). */
    JWT_ISSUER: z.string().min(1),
    /** `aud` claim of access tokens (RFC 7519 §4.1.3). */
    JWT_AUDIENCE: z.string().min(1),
    /** JSON JWK Set holding the private signing keys; the first key signs. Local and tests. */
    JWT_SIGNING_KEYS: z.string().min(1).optional(),
    /** Secrets Manager secret (ARN or name) whose value is that JWK Set. AWS. */
    JWT_SIGNING_KEYS_SECRET_ARN: z.string().min(1).optional(),
    /** Access token lifetime in seconds (API.md: 15 minutes). */
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
    /** Upstash REST endpoint (Upstash, or our bridge in front of Redis). Unset: no Redis. */
    REDIS_REST_URL: z.url().optional(),
    /** Bearer token of that endpoint. */
    REDIS_REST_TOKEN: z.string().min(1).optional(),
    /**
     * Secrets Manager secret `{"url", "token"}` of the Upstash REST endpoint (AWS), used when
     * `REDIS_REST_URL` is unset; read at the first call and again after a failure (reads
     * cached 5 minutes). Empty values: no Redis.
     */
    REDIS_REST_SECRET_ARN: z.string().min(1).optional(),
    /** Per-call Redis timeout in ms: a slow Redis costs at most this much per request. */
    REDIS_TIMEOUT_MS: z.coerce.number().int().min(5).max(5000).default(50),
    /** After a Redis failure, skip Redis for this many ms (circuit breaker), then try again. */
    REDIS_RETRY_AFTER_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
    /** TTL of cached note list pages in seconds (API.md: ≤ 60). */
    NOTES_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(60).default(30),
    /** `off` disables rate limits — honoured only when STAGE is `local` (demos, load tests). */
    RATE_LIMITS: z.enum(['on', 'off']).default('on'),
    /** SQS URL of the audit queue. Unset: events stay in the outbox (local without SQS). */
    AUDIT_QUEUE_URL: z.url().optional(),
    /** SQS endpoint override (the local cloud's fauxqs); unset in AWS. */
    SQS_ENDPOINT: z.url().optional(),
    /** Longest the request path waits for SQS after commit, in ms; the relay does the rest. */
    OUTBOX_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(50).max(10_000).default(1000),
  })
  .refine((env) => !env.REDIS_REST_URL || env.REDIS_REST_TOKEN, {
    message: 'REDIS_REST_URL needs REDIS_REST_TOKEN',
    path: ['REDIS_REST_TOKEN'],
    when: () => true,
  })
  .refine((env) => env.JWT_SIGNING_KEYS || env.JWT_SIGNING_KEYS_SECRET_ARN, {
    message: 'set JWT_SIGNING_KEYS (a JWK Set) or JWT_SIGNING_KEYS_SECRET_ARN',
    path: ['JWT_SIGNING_KEYS'],
    // Report it together with any other invalid variable, not only once the rest is valid.
    when: () => true,
  });

export type Config = z.output<typeof Environment>;

/** Raised when the environment does not satisfy `Environment`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

let cached: Config | undefined;

/** Parses `process.env` with `schema`; throws `ConfigError` listing every bad variable. */
function parseEnvironment<T extends z.ZodType>(schema: T): z.output<T> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * The parsed configuration, read from `process.env` on the first call and cached for the
 * life of the Lambda instance. Throws `ConfigError`.
 */
export function getConfig(): Config {
  cached ??= parseEnvironment(Environment);
  return cached;
}

/**
 * The environment of the deploy-time migration trigger (`functions/deploy/migrate.ts`):
 * the owner's connection, and the credentials of the application's login role, which it
 * creates or updates after migrating.
 */
const MigrationEnvironment = z
  .object({
    ...databaseVariables,
    /** `{"username", "password"}` of the application role, as JSON (local and tests). */
    APP_DATABASE_CREDENTIALS: z.string().min(1).optional(),
    /** Secrets Manager secret holding those (an RDS `DatabaseSecret`). AWS. */
    APP_DATABASE_SECRET_ARN: z.string().min(1).optional(),
  })
  .refine((env) => env.APP_DATABASE_CREDENTIALS || env.APP_DATABASE_SECRET_ARN, {
    message: 'set APP_DATABASE_CREDENTIALS or APP_DATABASE_SECRET_ARN',
    path: ['APP_DATABASE_CREDENTIALS'],
    when: () => true,
  });

export type MigrationConfig = z.output<typeof MigrationEnvironment>;

/** The migration trigger's configuration, parsed on every call. Throws `ConfigError`. */
export function getMigrationConfig(): MigrationConfig {
  return parseEnvironment(MigrationEnvironment);
}
