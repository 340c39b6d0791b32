import type { Signer } from '@aws-sdk/rds-signer';

/**
 * A function that makes an RDS IAM authentication token for the user, host and port of
 * `databaseUrl` (a SigV4-presigned `connect` request, signed locally with the function's
 * role credentials, no network call; valid 15 minutes, needed only to open a connection).
 * Source: AWS docs, "Connecting to your DB instance using IAM authentication" and
 * "Setting up IAM authentication for RDS Proxy". The signer loads on first use, so
 * functions without IAM auth never pay for it. Errors: missing AWS credentials.
 */
export function iamAuthTokenFor(databaseUrl: string, region: string): () => Promise<string> {
  const url = new URL(databaseUrl);
  let signer: Signer | undefined;
  return async () => {
    if (!signer) {
      const { Signer } = await import('@aws-sdk/rds-signer');
      signer = new Signer({
        hostname: url.hostname,
        port: Number(url.port || 5432),
        username: decodeURIComponent(url.username),
        region,
      });
    }
    return signer.getAuthToken();
  };
}

/** `databaseUrl` with its password set to `password` (percent-encoded). */
export function withPassword(databaseUrl: string, password: string): string {
  const url = new URL(databaseUrl);
  url.password = encodeURIComponent(password);
  return url.toString();
}
