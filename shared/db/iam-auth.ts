import { ConfigError } from '../config.js';
import { type AwsCredentials, presignQuery } from '../sigv4.js';

export type { AwsCredentials };

/** What an RDS IAM authentication token is made for. `port` is the database's TCP port. */
export interface AuthTokenRequest {
  hostname: string;
  port: number;
  /** The database user, who must hold `rds_iam` (or be allowed by RDS Proxy's IAM auth). */
  username: string;
  region: string;
  credentials: AwsCredentials;
  /** Signing time; defaults to now. The token is valid for 15 minutes from it. */
  signingDate?: Date;
}

/** Lifetime of an RDS IAM authentication token, in seconds (AWS docs: 15 minutes). */
export const AUTH_TOKEN_EXPIRES_SECONDS = 900;

/**
 * The credentials of the function's execution role, which the Lambda runtime sets as
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (AWS Lambda docs,
 * "Defined runtime environment variables"). No default credential chain (profiles, SSO,
 * IMDS, …): in Lambda these variables are the role's credentials, and loading the chain
 * would put the SDK's credential providers into every database function's bundle.
 * Errors: `ConfigError` when the key pair is not set.
 */
export function lambdaCredentials(env: {
  AWS_ACCESS_KEY_ID?: string | undefined;
  AWS_SECRET_ACCESS_KEY?: string | undefined;
  AWS_SESSION_TOKEN?: string | undefined;
}): AwsCredentials {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
    throw new ConfigError(
      'DATABASE_IAM_AUTH=true needs the execution role credentials AWS_ACCESS_KEY_ID and ' +
        'AWS_SECRET_ACCESS_KEY (set by the Lambda runtime); they are not set. Outside Lambda, ' +
        'set them or use DATABASE_IAM_AUTH=false with a password in DATABASE_URL.',
    );
  }
  return {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
}

/**
 * An RDS IAM authentication token: the `connect` request of `username` to `hostname:port`,
 * presigned with SigV4 (service `rds-db`, `X-Amz-Expires=900`, `X-Amz-Security-Token` when
 * the credentials have a session token), written as `host:port/?Action=connect&DBUser=…&X-Amz-…`
 * with no scheme, the query sorted by name. Signed locally, no network call; the token is the
 * connection's password. Source: AWS docs, "Connecting to your DB instance using IAM
 * authentication" and "Create a signed AWS API request" (SigV4 query string signing).
 * Errors: rejects when the signer refuses the credentials.
 */
export async function rdsAuthToken(request: AuthTokenRequest): Promise<string> {
  const { hostname, port, username, region, credentials } = request;
  const query = await presignQuery({
    service: 'rds-db',
    region,
    credentials,
    method: 'GET',
    protocol: 'https:',
    hostname,
    port,
    path: '/',
    query: { Action: 'connect', DBUser: username },
    expiresInSeconds: AUTH_TOKEN_EXPIRES_SECONDS,
    ...(request.signingDate ? { signingDate: request.signingDate } : {}),
  });
  return `${hostname}:${port}/?${query}`;
}

/**
 * A function that makes a fresh RDS IAM authentication token (see `rdsAuthToken`) for the
 * user, host and port (default 5432) of `databaseUrl`, signed with `credentials()` (the
 * Lambda role's: `lambdaCredentials` of the parsed environment). postgres.js calls it for each new connection, as
 * its `password`; the token only has to be valid when the connection opens (AWS docs,
 * "Setting up IAM authentication for RDS Proxy"). Errors: `ConfigError` when the credentials
 * are missing.
 */
export function iamAuthTokenFor(
  databaseUrl: string,
  region: string,
  credentials: () => AwsCredentials,
): () => Promise<string> {
  const url = new URL(databaseUrl);
  const hostname = url.hostname;
  const port = Number(url.port || 5432);
  const username = decodeURIComponent(url.username);
  return async () => rdsAuthToken({ hostname, port, username, region, credentials: credentials() });
}

/** `databaseUrl` with its password set to `password` (percent-encoded). */
export function withPassword(databaseUrl: string, password: string): string {
  const url = new URL(databaseUrl);
  url.password = encodeURIComponent(password);
  return url.toString();
}
