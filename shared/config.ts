import { z } from 'zod';

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
    /** `postgres://user:pass@host:port/db`; in AWS it points at RDS Proxy. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
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

/**
 * The parsed configuration, read from `process.env` on the first call and cached for the
 * life of the Lambda instance. Throws `ConfigError`.
 */
export function getConfig(): Config {
  if (cached) return cached;
  const parsed = Environment.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  cached = parsed.data;
  return cached;
}
