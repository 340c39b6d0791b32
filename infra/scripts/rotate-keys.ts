/**
 * `npm run keys:rotate [-- --keep N]` or `npm run keys:rotate -- --secret <arn|name>`:
 * rotates the JWT signing keys. A new ES256 key becomes the signer; the previous one stays in
 * the set (so tokens it signed keep verifying until they expire); older keys are dropped.
 * - Without `--secret`: the local stack's `.local/jwks.json` (`--keep`, default 2); restart
 *   `npm run dev`, which derives the public key set from it.
 * - With `--secret`: starts the deployed stage's own rotation (Secrets Manager `RotateSecret`,
 *   AWS credentials from the usual chain) and waits for it to finish. Its rotation function
 *   publishes the public keys first and lets the new key sign only once every verifier can
 *   know it (about 70 s later), which a direct write of the secret would skip.
 */

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { rotateSigningKeySet } from '../../shared/auth/keys.js';
import { KEYS_FILE } from '../local/state.js';

const { values } = parseArgs({
  options: { secret: { type: 'string' }, keep: { type: 'string' } },
});
const keep = Number(values.keep ?? 2);
if (!Number.isInteger(keep) || keep < 1 || keep > 5) {
  console.error('--keep takes 1 to 5');
  process.exit(2);
}
if (values.secret && values.keep !== undefined) {
  console.error('--keep is for the local key set; a stage keeps what its rotation function keeps.');
  process.exit(2);
}

const kids = (set: string) =>
  (JSON.parse(set) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

if (values.secret) {
  const {
    SecretsManagerClient,
    RotateSecretCommand,
    DescribeSecretCommand,
    GetSecretValueCommand,
  } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  const secretId = values.secret;
  const { VersionId: version } = await client.send(new RotateSecretCommand({ SecretId: secretId }));
  console.log(`Rotation of ${secretId} started (version ${version}); waiting for it to finish…`);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    const { VersionIdsToStages = {} } = await client.send(
      new DescribeSecretCommand({ SecretId: secretId }),
    );
    if (version && VersionIdsToStages[version]?.includes('AWSCURRENT')) break;
    if (Date.now() > deadline) {
      console.error('The rotation has not finished after 5 minutes: see its function’s logs.');
      process.exit(1);
    }
    await sleep(5000);
  }
  const { SecretString = '{"keys":[]}' } = await client.send(
    new GetSecretValueCommand({ SecretId: secretId }),
  );
  console.log(`Rotated ${secretId}: keys now ${kids(SecretString).join(', ')} (first signs).`);
} else {
  const current = existsSync(KEYS_FILE) ? await readFile(KEYS_FILE, 'utf8') : undefined;
  const next = await rotateSigningKeySet(current, keep);
  await writeFile(KEYS_FILE, next, { mode: 0o600 });
  console.log(`Rotated ${KEYS_FILE}: keys now ${kids(next).join(', ')} (first signs).`);
  console.log('Restart npm run dev to sign with the new key.');
}
