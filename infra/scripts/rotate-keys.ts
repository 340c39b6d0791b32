/**
 * `npm run keys:rotate [-- --secret <arn|name>] [--keep N]`: rotates the JWT signing keys.
 * A new ES256 key becomes the signer; the previous one stays in the set (so tokens it signed
 * keep verifying until they expire, ≤ 15 min); older keys are dropped (`--keep`, default 2).
 * Without `--secret` it rotates the local stack's `.local/jwks.json` (restart `npm run dev`);
 * with it, the Secrets Manager secret of a deployed stage (AWS credentials from the usual
 * chain). Instances pick the new set up within 5 minutes, or at once for a token whose `kid`
 * they do not know yet.
 */

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { rotateSigningKeySet } from '../../shared/auth/keys.js';
import { KEYS_FILE } from '../local/state.js';

const { values } = parseArgs({
  options: { secret: { type: 'string' }, keep: { type: 'string', default: '2' } },
});
const keep = Number(values.keep);
if (!Number.isInteger(keep) || keep < 1 || keep > 5) {
  console.error('--keep takes 1 to 5');
  process.exit(2);
}

const kids = (set: string) =>
  (JSON.parse(set) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

if (values.secret) {
  const { SecretsManagerClient, GetSecretValueCommand, PutSecretValueCommand } = await import(
    '@aws-sdk/client-secrets-manager'
  );
  const client = new SecretsManagerClient({});
  const current = await client.send(new GetSecretValueCommand({ SecretId: values.secret }));
  const next = await rotateSigningKeySet(current.SecretString, keep);
  await client.send(new PutSecretValueCommand({ SecretId: values.secret, SecretString: next }));
  console.log(`Rotated ${values.secret}: keys now ${kids(next).join(', ')} (first signs).`);
} else {
  const current = existsSync(KEYS_FILE) ? await readFile(KEYS_FILE, 'utf8') : undefined;
  const next = await rotateSigningKeySet(current, keep);
  await writeFile(KEYS_FILE, next, { mode: 0o600 });
  console.log(`Rotated ${KEYS_FILE}: keys now ${kids(next).join(', ')} (first signs).`);
  console.log('Restart npm run dev to sign with the new key.');
}
