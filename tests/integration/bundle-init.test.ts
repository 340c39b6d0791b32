import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleLikeCdk } from '../../infra/functions.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Inside the repository, so the bundles' externals (Powertools) resolve as from a layer.
const OUT = join(ROOT, 'node_modules/.cache/bundle-init-test', Date.now().toString(36));

afterAll(() => rm(OUT, { recursive: true, force: true }));

/**
 * Node's built-in modules a fresh process has loaded after `require(bundle)`, as the Lambda
 * runtime loads a CommonJS handler (its own `node:http` is a `require` too, so it is
 * loaded first here as well).
 */
async function modulesLoadedBy(file: string): Promise<string[]> {
  const bundle = await bundleLikeCdk(file, join(OUT, file.replace('/', '-')));
  const probe = join(OUT, `${file.replace('/', '-')}-probe.cjs`);
  await writeFile(
    probe,
    [
      "require('node:http');",
      'const before = new Set(process.moduleLoadList);',
      `const loaded = require(${JSON.stringify(bundle)});`,
      "if (typeof loaded.handler !== 'function') throw new Error('no handler export');",
      'process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))));',
    ].join('\n'),
  );
  const run = spawnSync(process.execPath, [probe], {
    encoding: 'utf8',
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  if (run.status !== 0) throw new Error(`loading ${file} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

// Node 22 builds the ES facade of `node:http` from all its exports on an ES `import`, and
// one of them loads undici (fetch), http2 and zlib: ~25 ms of cold start for nothing. The
// bundles are CommonJS so that this never happens (infra/functions.ts, BUNDLE_FORMAT).
describe('a function bundle at init (CommonJS, loaded with require)', () => {
  it.each(['notes/get', 'health/live', 'workers/audit'])(
    '%s exports its handler and loads neither undici, http2 nor zlib',
    async (file) => {
      const loaded = await modulesLoadedBy(file);
      expect(loaded.filter((m) => /undici|http2|zlib/.test(m))).toEqual([]);
    },
    60_000,
  );
});
