import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getConfig } from './config.js';

/**
 * The instance's Secrets Manager client, created at the first read: one attempt, short
 * timeouts (500 ms to connect, 1.5 s per request, enforced by `throwOnRequestTimeout`), so
 * a read waits ≤ 2 s; a request can do without Redis, and a token key read that fails is a
 * 503, not a hang. The SDK module is a dynamic `import()` of a package the bundle leaves
 * external (the Lambda runtime's), so it loads only at the first read, never at init, and
 * never in the local cloud or the tests (no secret ARNs there). (Not Powertools'
 * `getSecret`: its module imports the SDK client statically, and esbuild turns an
 * external's static import into a `require` at the top of the bundle.)
 */
let client: SecretsManagerClient | undefined;

/**
 * The `SecretString` of the secret `arn` (its current version; `''` when it has none).
 * Errors: the SDK's (network, timeout, AccessDenied, ResourceNotFound); callers decide what
 * a failure means for them.
 */
export async function readSecretString(arn: string): Promise<string> {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  client ??= new sdk.SecretsManagerClient({
    region: getConfig().AWS_REGION,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1500, throwOnRequestTimeout: true },
  });
  const out = await client.send(new sdk.GetSecretValueCommand({ SecretId: arn }));
  return out.SecretString ?? '';
}
