import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
// zod/mini, not classic zod: the SQS workers, which read this module, have a 150 KiB bundle
// budget, and classic zod costs ~90 KiB of a bundle against ~24 KiB for zod/mini.
import * as z from 'zod/mini';
import { useEnglishMessages } from './zod-english.js';

// A misconfigured function says what is wrong in words, not `Invalid input` (zod/mini sets no
// locale): this module is loaded by every function, the workers included.
useEnglishMessages();

/** The database connection, shared by the functions and the migration trigger. */
const databaseVariables = {
  /**
   * `postgres://user[:pass]@host:port/db[?sslmode=…]`. In AWS: RDS Proxy's endpoint with
   * `sslmode=verify-full` and no password (see `DATABASE_IAM_AUTH`).
   */
  DATABASE_URL: z
    .string()
    .check(z.regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')),
  /**
   * `true`: authenticate with an RDS IAM token made for each new connection (AWS docs,
   * "IAM database authentication" for RDS Proxy) instead of a password in the URL.
   */
  DATABASE_IAM_AUTH: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v) => v === 'true'),
  ),
  /** AWS region (set by the Lambda runtime); signs IAM tokens and SQS requests. */
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  /**
   * The execution role's credentials, set by the Lambda runtime (AWS Lambda docs, "Defined
   * runtime environment variables"); they sign IAM database tokens. Unset locally.
   */
  AWS_ACCESS_KEY_ID: z.optional(z.string().check(z.minLength(1))),
  AWS_SECRET_ACCESS_KEY: z.optional(z.string().check(z.minLength(1))),
  AWS_SESSION_TOKEN: z.optional(z.string().check(z.minLength(1))),
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
    /**
     * Deployment stage, required: `local` for the local cloud, its CLI scripts and the tests,
     * else the CDK stage name. No default: a deployed function that lost the variable must not
     * run as `local` (which turns rate limits off); in Lambda it refuses to start (see below).
     */
    STAGE: z
      .string({
        error: (issue) =>
          issue.input === undefined
            ? 'is required: the deployment stage (`local` for the local cloud and tests, else the CDK stage name)'
            : undefined,
      })
      .check(
        z.regex(
          /^[a-z][a-z0-9-]{0,20}$/,
          'must be a lower-case letter, then up to 20 of a-z, 0-9, -',
        ),
      ),
    ...databaseVariables,
    /** Set only on functions that use the database (CDK grants per route), so optional here. */
    DATABASE_URL: z.optional(databaseVariables.DATABASE_URL),
    /** Connections per Lambda instance. 1 in AWS (one request at a time per instance). */
    DB_POOL_MAX: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 1),
    /** Seconds before an unused connection is closed (postgres.js `idle_timeout`). */
    DB_IDLE_TIMEOUT_SECONDS: z._default(
      z.coerce.number().check(z.int(), z.gte(0), z.lte(3600)),
      20,
    ),
    /**
     * Seconds to open a new connection: TCP, TLS, startup and authentication (postgres.js
     * `connect_timeout`; fractions allowed). Below `REQUEST_DEADLINE_MS`, so a server that
     * does not let us in is a `CONNECT_TIMEOUT` (503) inside the request's budget.
     */
    DB_CONNECT_TIMEOUT_SECONDS: z._default(z.coerce.number().check(z.gte(0.1), z.lte(60)), 1.5),
    /**
     * Server-side limit of one statement, in ms (PostgreSQL `statement_timeout`, sent as a
     * startup parameter of every connection). Below `REQUEST_DEADLINE_MS`, so a slow but
     * responsive server cancels the statement (SQLSTATE 57014, a 503) before the deadline.
     */
    DB_STATEMENT_TIMEOUT_MS: z._default(
      z.coerce.number().check(z.int(), z.gte(100), z.lte(3_600_000)),
      1500,
    ),
    /** Longest wait for a lock, in ms (PostgreSQL `lock_timeout`; SQLSTATE 55P03, a 503). */
    DB_LOCK_TIMEOUT_MS: z._default(
      z.coerce.number().check(z.int(), z.gte(100), z.lte(3_600_000)),
      1000,
    ),
    /**
     * Longest a session may sit idle inside an open transaction, in ms (PostgreSQL
     * `idle_in_transaction_session_timeout`): the server then ends the session and frees its
     * locks, e.g. when the client vanished mid-transaction. Well above any pause our own code
     * makes inside a transaction (none waits on another service there).
     */
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z._default(
      z.coerce.number().check(z.int(), z.gte(1000), z.lte(3_600_000)),
      10_000,
    ),
    /**
     * Budget of one HTTP request for its database work, in ms from the request's start,
     * capped by the Lambda's remaining time less a margin (`shared/http/middleware/deadline.ts`). When
     * it passes, the connections the request used are closed (a stalled server never answers,
     * not even its own `statement_timeout`) and the request answers 503 with `Retry-After`.
     */
    REQUEST_DEADLINE_MS: z._default(
      z.coerce.number().check(z.int(), z.gte(100), z.lte(900_000)),
      2000,
    ),
    /**
     * `iss` claim of access tokens (RFC 7519 §4.1.1). Set on functions that sign or verify
     * tokens, which fail with a `ConfigError` without it; the others do not need it.
     */
    JWT_ISSUER: z.optional(z.string().check(z.minLength(1))),
    /** `aud` claim of access tokens (RFC 7519 §4.1.3); like `JWT_ISSUER`. */
    JWT_AUDIENCE: z.optional(z.string().check(z.minLength(1))),
    /**
     * JSON JWK Set of the PRIVATE signing keys; the first key signs. Only functions that sign
     * tokens (login, refresh) have it. Local and tests.
     */
    JWT_SIGNING_KEYS: z.optional(z.string().check(z.minLength(1))),
    /** Secrets Manager secret (ARN or name) whose value is that JWK Set. AWS, signers only. */
    JWT_SIGNING_KEYS_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    /**
     * JSON JWK Set of the PUBLIC keys only: what verifying functions and the JWKS read. Local
     * and tests (derived from the signing set).
     */
    JWT_PUBLIC_KEYS: z.optional(z.string().check(z.minLength(1))),
    /** Secrets Manager secret holding that public JWK Set, published by the key rotation. AWS. */
    JWT_PUBLIC_KEYS_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    /** Access token lifetime in seconds (API.md: 15 minutes). */
    ACCESS_TOKEN_TTL_SECONDS: z._default(
      z.coerce.number().check(z.int(), z.gte(60), z.lte(3600)),
      900,
    ),
    /** Upstash REST endpoint (Upstash, or our bridge in front of Redis). Unset: no Redis. */
    REDIS_REST_URL: z.optional(z.url()),
    /** Bearer token of that endpoint. */
    REDIS_REST_TOKEN: z.optional(z.string().check(z.minLength(1))),
    /**
     * Secrets Manager secret `{"url", "token"}` of the Upstash REST endpoint (AWS), used when
     * `REDIS_REST_URL` is unset; read at the first call and again after a failure (reads
     * cached 5 minutes). Empty values: no Redis.
     */
    REDIS_REST_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    /** Per-call Redis timeout in ms: a slow Redis costs at most this much per request. */
    REDIS_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.gte(5), z.lte(5000)), 50),
    /**
     * Redis failures in a row (no success between) that open the circuit breaker; 1 opens it
     * at the first failure.
     */
    REDIS_FAILURES_TO_OPEN: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 3),
    /** Once the circuit breaker is open, skip Redis for this many ms, then try again. */
    REDIS_RETRY_AFTER_MS: z._default(
      z.coerce.number().check(z.int(), z.gte(100), z.lte(600_000)),
      2000,
    ),
    /** TTL of cached note list pages in seconds (API.md: ≤ 60). */
    NOTES_CACHE_TTL_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(60)), 30),
    /** TTL of cached orders (`GET /api/v1/orders/{id}`) in seconds. */
    ORDERS_CACHE_TTL_SECONDS: z._default(
      z.coerce.number().check(z.int(), z.gte(1), z.lte(3600)),
      300,
    ),
    /** The stage's one currency (ISO 4217 code) of prices and orders (API.md § Conventions). */
    CURRENCY: z._default(
      z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')),
      'EUR',
    ),
    /** `off` disables rate limits — honoured only when STAGE is `local` (demos, load tests). */
    RATE_LIMITS: z._default(z.enum(['on', 'off']), 'on'),
    /** SQS URL of the audit queue. Unset: events stay in the outbox (local without SQS). */
    AUDIT_QUEUE_URL: z.optional(z.url()),
    /** SQS URL of the e-mail queue. Unset: its events stay in the outbox. */
    EMAIL_QUEUE_URL: z.optional(z.url()),
    /** SQS URL of the jobs queue. Unset: job runs stay in the outbox. */
    JOBS_QUEUE_URL: z.optional(z.url()),
    /** SQS URL of the jobs DLQ, where the worker moves a job's message after its last attempt. */
    JOBS_DLQ_URL: z.optional(z.url()),
    /** Base of the jobs' retry backoff, in seconds (delay ≈ base × 2^(attempt−1), jittered, ≤ 900). */
    JOBS_RETRY_BASE_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(900)), 10),
    /**
     * A job run yields (saves its checkpoint and continues in a new message) once less than
     * this much of its invocation is left, in ms.
     */
    JOBS_YIELD_MARGIN_MS: z._default(
      z.coerce.number().check(z.int(), z.gte(0), z.lte(600_000)),
      60_000,
    ),
    /** The files bucket (exports, uploads); set on the functions that use it. */
    FILES_BUCKET: z.optional(z.string().check(z.minLength(3))),
    /** S3 endpoint override (the local cloud's fauxqs S3, path-style); unset in AWS. */
    S3_ENDPOINT: z.optional(z.url()),
    /** SQS endpoint override (the local cloud's fauxqs); unset in AWS. */
    SQS_ENDPOINT: z.optional(z.url()),
    /**
     * The sender of the order e-mails (`From`), an address of the stage's verified SES
     * identity (infra/stages.ts). Set on the e-mail worker only, which fails its message
     * with a `ConfigError` without it.
     */
    MAIL_FROM: z.optional(z.email()),
    /** SES endpoint override (the local cloud's `aws-ses-v2-local`); unset in AWS. */
    SES_ENDPOINT: z.optional(z.url()),
    /** Longest the request path waits for SQS after commit, in ms; the relay does the rest. */
    OUTBOX_PUBLISH_TIMEOUT_MS: z._default(
      z.coerce.number().check(z.int(), z.gte(50), z.lte(10_000)),
      1000,
    ),
  })
  .check(
    z.refine((env) => !env.REDIS_REST_URL || env.REDIS_REST_TOKEN, {
      message: 'REDIS_REST_URL needs REDIS_REST_TOKEN',
      path: ['REDIS_REST_TOKEN'],
      when: () => true,
    }),
  );

export type Config = z.output<typeof Environment>;

/** Raised when the environment does not satisfy `Environment`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The text of a `ConfigError`: `Invalid environment:`, then one line per problem,
 * `NAME: what is wrong`, each (outside Lambda) with where to fix it. The local tools load
 * `.env` from the current folder without overriding the environment (Node's
 * `process.loadEnvFile`), so when `./.env` holds the value in force the line says so, and
 * otherwise says to set it in `.env` or the environment. In Lambda the variables come from
 * the function's configuration, so no hint is added.
 */
export function describeEnvironmentProblems(
  problems: ReadonlyArray<{ name: string; message: string }>,
): string {
  const inLambda = Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);
  const dotenv = inLambda ? undefined : readDotenv();
  const hint = (name: string) => {
    if (inLambda || !name) return '';
    if (dotenv?.[name] !== undefined && dotenv[name] === process.env[name]) {
      return ' (this value comes from .env)';
    }
    if (dotenv?.[name] !== undefined) return ' (set in the environment, which overrides .env)';
    return ' (set it in .env or the environment)';
  };
  const lines = problems.map(
    ({ name, message }) => `  ${name || '(env)'}: ${message}${hint(name)}`,
  );
  return `Invalid environment:\n${lines.join('\n')}`;
}

/** The variables of `./.env`, or undefined when there is none (or it cannot be read). */
function readDotenv(): NodeJS.Dict<string> | undefined {
  try {
    return parseEnv(readFileSync(join(process.cwd(), '.env'), 'utf8'));
  } catch {
    return undefined;
  }
}

let cached: Config | undefined;

/** Parses `process.env` with `schema`; throws `ConfigError` listing every bad variable. */
function parseEnvironment<T extends z.ZodMiniType>(schema: T): z.output<T> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new ConfigError(
      describeEnvironmentProblems(
        parsed.error.issues.map((i) => ({ name: i.path.join('.'), message: i.message })),
      ),
    );
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

// In Lambda the environment is parsed during the init phase, so a function deployed with a
// missing or malformed variable (no STAGE, say) refuses to start and logs the ConfigError,
// instead of failing, or running with defaults, at its first request. Local runs parse lazily.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) getConfig();

/**
 * The environment of the deploy-time migration trigger (`functions/deploy/migrate.ts`):
 * the owner's connection, and the credentials of the application's login role, which it
 * creates or updates after migrating. Built on first use: only that function needs it, and
 * every other function would pay for its schemas at init.
 */
function migrationEnvironment() {
  return z
    .object({
      ...databaseVariables,
      /** `{"username", "password"}` of the application role, as JSON (local and tests). */
      APP_DATABASE_CREDENTIALS: z.optional(z.string().check(z.minLength(1))),
      /** Secrets Manager secret holding those (an RDS `DatabaseSecret`). AWS. */
      APP_DATABASE_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    })
    .check(
      z.refine((env) => env.APP_DATABASE_CREDENTIALS || env.APP_DATABASE_SECRET_ARN, {
        message: 'set APP_DATABASE_CREDENTIALS or APP_DATABASE_SECRET_ARN',
        path: ['APP_DATABASE_CREDENTIALS'],
        when: () => true,
      }),
    );
}

let migrationSchema: ReturnType<typeof migrationEnvironment> | undefined;

export type MigrationConfig = z.output<ReturnType<typeof migrationEnvironment>>;

/** The migration trigger's configuration, parsed on every call. Throws `ConfigError`. */
export function getMigrationConfig(): MigrationConfig {
  migrationSchema ??= migrationEnvironment();
  return parseEnvironment(migrationSchema);
}
