import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { outboxRelay, queueList } from '../shared/queue/queues.js';
import { fallbackRoute, routeList } from '../shared/routes.js';
import { summarize } from './stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Inside the repo (git-ignored) so the externals resolve from node_modules like in a Lambda layer. */
const OUT = join(ROOT, 'bench/.out');

/**
 * Bundles every function as CDK's NodejsFunction does (esbuild, ESM, node22, minified,
 * `@aws-sdk/*` and the native `@node-rs/argon2` external) and measures, per function, the
 * bundle size (raw and gzip) and the cold module-load time: the median over 5 fresh `node`
 * processes of `await import(bundle)`.
 */
export async function benchBundles(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const files = [
    ...new Set([
      ...routeList.map((r) => r.function),
      fallbackRoute.function,
      ...queueList.map((q) => q.worker),
      outboxRelay.function,
    ]),
  ];
  const loader = join(OUT, 'load.mjs');
  writeFileSync(
    loader,
    'const t = performance.now(); await import(process.argv[2]); process.stdout.write(String(performance.now() - t));\n',
  );
  console.log(
    '\n## Function bundles (esbuild, minified) and cold module-load time (median of 5 processes)\n',
  );
  console.log(
    `${'function'.padEnd(22)} ${'bundle'.padStart(10)} ${'gzip'.padStart(9)} ${'cold load'.padStart(11)}`,
  );
  for (const file of files) {
    const outfile = join(OUT, `${file.replace(/\//g, '-')}.mjs`);
    await build({
      entryPoints: [join(ROOT, 'functions', `${file}.ts`)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      outfile,
      external: ['@aws-sdk/*', '@node-rs/argon2'],
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'silent',
    });
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
      `${file.padEnd(22)} ${kb(code.length).padStart(10)} ${kb(gzipSync(code).length).padStart(9)} ${`${summarize(loads).median.toFixed(1)} ms`.padStart(11)}`,
    );
  }
}
