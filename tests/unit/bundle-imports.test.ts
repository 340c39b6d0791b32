import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { definesFor, esbuildOptionsLikeCdk, externalsFor } from '../../infra/functions.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The esbuild metafile output of `functions/<file>.ts`, bundled as the stack bundles it. */
async function bundleOf(file: string) {
  const result = await build({
    ...esbuildOptionsLikeCdk(
      join(ROOT, 'functions', `${file}.ts`),
      join(ROOT, 'x.js'),
      definesFor(file),
      externalsFor(file),
    ),
    write: false,
    metafile: true,
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (!output) throw new Error(`no output for ${file}`);
  return output;
}

/**
 * A static import of an external becomes a `require` at the top of the bundle, so it loads
 * at init even when only lazily evaluated code uses it; a dynamic `import()` loads on first use.
 */
describe('function bundles load the AWS SDK only on first use', () => {
  it.each([
    // SQS (outbox), Secrets Manager (keys, Redis), IAM database auth.
    ['notes/archive', ['@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs']],
    ['auth/login', ['@aws-sdk/client-secrets-manager']],
    ['workers/outbox-relay', ['@aws-sdk/client-sqs']],
    ['workers/audit', []],
    ['workers/email', ['@aws-sdk/client-sesv2']],
  ])(
    '%s imports SDK clients only dynamically, and bundles no credential chain',
    async (file, lazy) => {
      const output = await bundleOf(file);
      const sdk = output.imports.filter((i) => i.external && i.path.startsWith('@aws-sdk/'));
      expect(sdk.filter((i) => i.kind !== 'dynamic-import').map((i) => i.path)).toEqual([]);
      expect([...new Set(sdk.map((i) => i.path))].sort()).toEqual(lazy);
      const chain = Object.keys(output.inputs).filter((path) =>
        /node_modules\/@aws-sdk\/(credential-provider|nested-clients|rds-signer|core\/)/.test(path),
      );
      expect(chain).toEqual([]);
    },
  );
});

describe('function bundles hold the idempotency middleware only where the route declares it', () => {
  it.each([
    ['inventory/update', true],
    ['inventory/query', false],
    ['notes/create', false],
    ['auth/login', false],
  ])('%s bundles middleware/idempotency.ts: %s', async (file, expected) => {
    const inputs = Object.keys((await bundleOf(file)).inputs);
    expect(inputs.some((path) => path.endsWith('shared/http/middleware/idempotency.ts'))).toBe(
      expected,
    );
    // The SQL of the key records comes only with it.
    expect(inputs.some((path) => path.endsWith('shared/db/idempotency-keys.ts'))).toBe(expected);
  });
});

describe('function bundles hold the API-key code only where the route accepts keys', () => {
  it.each([
    ['notes/get', true],
    ['inventory/update', true],
    ['customers/list', false],
    ['users/me', false],
    ['keys/create', false],
    ['keys/list', false],
    ['auth/login', false],
  ])(
    '%s bundles middleware/api-key.ts and api-keys/verification.ts: %s',
    async (file, expected) => {
      const inputs = Object.keys((await bundleOf(file)).inputs);
      expect(inputs.some((path) => path.endsWith('shared/http/middleware/api-key.ts'))).toBe(
        expected,
      );
      expect(inputs.some((path) => path.endsWith('shared/api-keys/verification.ts'))).toBe(
        expected,
      );
    },
  );
});
