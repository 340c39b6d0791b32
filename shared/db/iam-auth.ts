import { ConfigError } from '../config.js';

/** AWS credentials that sign a request: an access key pair and, for a role, its session token. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

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

/** The signing libraries, loaded on the first token: functions without IAM auth never run them. */
let signing:
  | Promise<
      [
        typeof import('@smithy/signature-v4'),
        typeof import('@smithy/protocol-http'),
        typeof import('@smithy/hash-node'),
      ]
    >
  | undefined;

/**
 * SigV4's `UriEncode`: percent-encodes every byte but the RFC 3986 unreserved characters
 * (`encodeURIComponent` leaves `!'()*` as they are, so those are encoded too).
 */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
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
  signing ??= Promise.all([
    import('@smithy/signature-v4'),
    import('@smithy/protocol-http'),
    import('@smithy/hash-node'),
  ]);
  const [{ SignatureV4 }, { HttpRequest }, { Hash }] = await signing;
  const { hostname, port, username, region, credentials } = request;
  // SHA-256 and HMAC from node:crypto (Smithy's Node hash), not a JavaScript implementation.
  const signer = new SignatureV4({
    service: 'rds-db',
    region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      port,
      path: '/',
      query: { Action: 'connect', DBUser: username },
      headers: { host: `${hostname}:${port}` },
    }),
    { expiresIn: AUTH_TOKEN_EXPIRES_SECONDS, signingDate: request.signingDate ?? new Date() },
  );
  const signed = presigned.query ?? {};
  const query = Object.keys(signed)
    .sort()
    .map((name) => `${uriEncode(name)}=${uriEncode(String(signed[name]))}`)
    .join('&');
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
