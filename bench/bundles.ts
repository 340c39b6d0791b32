import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleLikeCdk, functionFiles } from '../infra/functions.js';
import { summarize } from './stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Inside the repo (git-ignored) so the externals resolve from node_modules like in a Lambda layer. */
const OUT = join(ROOT, 'bench/.out');

/**
 * Bundles every function as the stack has CDK do it (`bundleLikeCdk`) and measures, per function, the
 * bundle size (raw and gzip) and the cold module-load time: the median over 5 fresh `node`
 * processes of `await import(bundle)`.
 */
export async function benchBundles(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const files = functionFiles();
  const loader = join(OUT, 'load.mjs');
  writeFileSync(
    loader,
    'const t = performance.now(); await import(process.argv[2]); process.stdout.write(String(performance.now() - t));\n',
  );
  console.log(
    '\n## Function bundles (esbuild, minified) and cold module-load time (median of 5 processes)\n',
  );
  console.log(
    `${'function'.padEnd(28)} ${'bundle'.padStart(10)} ${'gzip'.padStart(9)} ${'cold load'.padStart(11)}`,
  );
  for (const file of files) {
    const outfile = await bundleLikeCdk(file, join(OUT, file.replace(/\//g, '-')));
    const code = readFileSync(outfile);
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const run = spawnSync(process.execPath, [loader, outfile], {
        encoding: 'utf8',
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      });
      loads.push(Number(run.stdout));
    }
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(
      `${file.padEnd(28)} ${kb(code.length).padStart(10)} ${kb(gzipSync(code).length).padStart(9)} ${`${summarize(loads).median.toFixed(1)} ms`.padStart(11)}`,
    );
  }
}
