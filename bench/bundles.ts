import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  bundleLikeCdk,
  definesFor,
  deployFunctions,
  esbuildOptionsLikeCdk,
  externalsFor,
  functionFiles,
} from '../infra/functions.js';
import { summarize } from './stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Inside the repo (git-ignored) so the externals resolve from node_modules like in a Lambda layer. */
const OUT = join(ROOT, 'bench/.out/bundles');

/** Size budgets in KiB of minified bundles (the "HTTP stack v2" issue). */
export const HTTP_BUNDLE_BUDGET_KIB = 300;
export const WORKER_BUNDLE_BUDGET_KIB = 150;
/** The function whose cold module load is budgeted, and its budget against the reference. */
export const COLD_LOAD_FUNCTION = 'notes/get';
export const COLD_LOAD_BUDGET = 2.0;
/** Reference/function process pairs for the budgeted function, and the most for the others. */
const BUDGETED_PAIRS = 21;
const MAX_PAIRS = 15;
const MIN_PAIRS = 3;
/** Wall time the cold-load measurements may take in all, in ms (2 cores shared). */
const LOAD_BUDGET_MS = 55_000;

/** How `npm run bench` records a budget line: a ratio (or size ÷ budget), its budget, the verdict. */
export type Report = (name: string, ratio: number, budget: string, pass: boolean) => void;

/** The bundle that only holds the drivers every function needs: postgres.js and jose, all of both. */
const REFERENCE_ENTRY =
  "import postgres from 'postgres';\nimport * as jose from 'jose';\nexport { jose, postgres };\n";

/** The size budget of a function file in KiB: workers 150, deploy-time none, HTTP 300. */
function sizeBudget(file: string): number | undefined {
  if (file.startsWith('workers/')) return WORKER_BUNDLE_BUDGET_KIB;
  if ((Object.values(deployFunctions) as string[]).includes(file)) return undefined;
  return HTTP_BUNDLE_BUDGET_KIB;
}

/**
 * One fresh `node` process importing `bundle` as the Lambda runtime's init phase does (with
 * `AWS_LAMBDA_FUNCTION_NAME` set, so what a function does at init in Lambda, such as parsing
 * its configuration, is part of the figure): the import's duration in ms, or NaN if it fails.
 */
function coldLoad(loader: string, bundle: string): { ms: number; error?: string } {
  const run = spawnSync(process.execPath, [loader, bundle], {
    encoding: 'utf8',
    env: {
      ...process.env,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_LAMBDA_FUNCTION_NAME: 'bench-cold-load',
      STAGE: process.env.STAGE ?? 'local',
    },
  });
  if (run.status !== 0) {
    return { ms: Number.NaN, error: run.stderr.split('\n').find((l) => l.trim()) ?? 'failed' };
  }
  return { ms: Number(run.stdout) };
}

/**
 * `pairs` interleaved pairs of fresh processes, the reference and the function in turn
 * (their order alternating), after one untimed pair. Returns both medians (ms) and the first
 * load error, if any.
 */
function measurePairs(loader: string, reference: string, bundle: string, pairs: number) {
  coldLoad(loader, reference);
  coldLoad(loader, bundle);
  const ref: number[] = [];
  const fn: number[] = [];
  let error: string | undefined;
  for (let i = 0; i < pairs; i++) {
    const order: [number[], string][] = [
      [ref, reference],
      [fn, bundle],
    ];
    if (i % 2) order.reverse();
    for (const [samples, file] of order) {
      const load = coldLoad(loader, file);
      error ??= load.error;
      samples.push(load.ms);
    }
  }
  return { reference: summarize(ref).median, function: summarize(fn).median, error };
}

const kib = (bytes: number) => bytes / 1024;

/**
 * Bundles every function as the stack has CDK do it (`bundleLikeCdk`) and prints, per
 * function, the bundle size (raw and gzip, KiB), the median cold module-load time (ms, of
 * `await import(bundle)` in a fresh `node` process) and its ratio to a reference bundle built
 * with the same options that holds only postgres.js and jose. The reference and the function
 * are loaded in interleaved pairs of processes: 21 pairs for `notes/get`, then as many (3 to
 * 15) per other function as fit in about a minute. Then the budget lines, through `report`:
 * every HTTP function ≤ 300 KiB, every worker (`functions/workers/*`) ≤ 150 KiB (each as
 * the largest one's size ÷ budget) and `notes/get`'s cold load ≤ 2.0× the reference.
 */
export async function benchBundles(report: Report): Promise<void> {
  const { build } = await import('esbuild');
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const loader = join(OUT, 'load.mjs');
  // As the Lambda runtime loads a CommonJS handler: with `require`.
  writeFileSync(
    loader,
    "import { createRequire } from 'node:module';\nconst load = createRequire(import.meta.url);\nconst t = performance.now(); load(process.argv[2]); process.stdout.write(String(performance.now() - t));\n",
  );
  const referenceEntry = join(OUT, 'reference.ts');
  writeFileSync(referenceEntry, REFERENCE_ENTRY);
  const reference = join(OUT, 'reference', 'index.js');
  mkdirSync(join(OUT, 'reference'), { recursive: true });
  writeFileSync(join(OUT, 'reference', 'package.json'), '{ "type": "commonjs" }\n');
  const [, metafile] = await Promise.all([
    build(esbuildOptionsLikeCdk(referenceEntry, reference)),
    build({
      ...esbuildOptionsLikeCdk(
        join(ROOT, 'functions', `${COLD_LOAD_FUNCTION}.ts`),
        'x.js',
        definesFor(COLD_LOAD_FUNCTION),
        externalsFor(COLD_LOAD_FUNCTION),
      ),
      write: false,
      metafile: true,
    }).then((r) => r.metafile),
  ]);

  const files = functionFiles();
  const bundles = new Map<string, string>();
  for (const file of files) {
    bundles.set(file, await bundleLikeCdk(file, join(OUT, file.replace(/\//g, '-'))));
  }
  const referenceSize = readFileSync(reference).length;

  console.log(
    '\n## Function bundles (esbuild, minified) and cold module load vs postgres.js + jose\n',
  );
  console.log(
    `reference (postgres.js + jose): ${kib(referenceSize).toFixed(1)} KiB, gzip ${kib(gzipSync(readFileSync(reference)).length).toFixed(1)} KiB\n`,
  );
  console.log(
    `${'function'.padEnd(28)} ${'bundle'.padStart(10)} ${'gzip'.padStart(9)} ${'budget'.padStart(9)} ${'cold load'.padStart(10)} ${'reference'.padStart(10)} ${'ratio'.padStart(7)} ${'pairs'.padStart(5)}`,
  );
  const started = Date.now();
  let pairsDone = 0;
  const ordered = [COLD_LOAD_FUNCTION, ...files.filter((f) => f !== COLD_LOAD_FUNCTION)];
  const over = { http: [] as string[], worker: [] as string[] };
  const largest = { http: ['', 0] as [string, number], worker: ['', 0] as [string, number] };
  let coldRatio = Number.NaN;
  for (const [index, file] of ordered.entries()) {
    const bundle = bundles.get(file) as string;
    const code = readFileSync(bundle);
    const size = kib(code.length);
    const budget = sizeBudget(file);
    let pairs = BUDGETED_PAIRS;
    if (file !== COLD_LOAD_FUNCTION) {
      // Spread what is left of the time budget over the functions still to measure (each
      // also loads one untimed pair).
      const spent = Date.now() - started;
      const perPair = spent / pairsDone;
      const fit = Math.floor((LOAD_BUDGET_MS - spent) / (ordered.length - index) / perPair) - 1;
      pairs = Math.max(MIN_PAIRS, Math.min(MAX_PAIRS, fit));
    }
    const load = measurePairs(loader, reference, bundle, pairs);
    pairsDone += pairs + 1;
    const ratio = load.function / load.reference;
    if (file === COLD_LOAD_FUNCTION) coldRatio = ratio;
    const kind = file.startsWith('workers/') ? 'worker' : 'http';
    if (budget !== undefined) {
      if (size > budget) over[kind].push(file);
      if (size > largest[kind][1]) largest[kind] = [file, size];
    }
    const verdict = budget === undefined ? '—' : `${size <= budget ? '≤' : '>'} ${budget}`;
    console.log(
      `${file.padEnd(28)} ${`${size.toFixed(1)} KiB`.padStart(10)} ${`${kib(gzipSync(code).length).toFixed(1)} KiB`.padStart(9)} ${verdict.padStart(9)} ${`${load.function.toFixed(1)} ms`.padStart(10)} ${`${load.reference.toFixed(1)} ms`.padStart(10)} ${`${ratio.toFixed(2)}×`.padStart(7)} ${String(pairs).padStart(5)}${load.error ? `  load failed: ${load.error}` : ''}`,
    );
  }

  const output = Object.values(metafile.outputs)[0];
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const name =
      /node_modules\/((@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  console.log(`\nlargest parts of ${COLD_LOAD_FUNCTION}:`);
  for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    console.log(`  ${name.padEnd(36)} ${`${kib(bytes).toFixed(1)} KiB`.padStart(10)}`);
  }
  console.log('');

  for (const [kind, budget] of [
    ['http', HTTP_BUNDLE_BUDGET_KIB],
    ['worker', WORKER_BUNDLE_BUDGET_KIB],
  ] as const) {
    const [file, size] = largest[kind];
    const label = kind === 'http' ? 'HTTP function' : 'worker';
    report(
      `largest ${label} bundle (KiB ÷ ${budget}): ${file}, ${over[kind].length} over budget`,
      size / budget,
      '≤ 1.0',
      size <= budget,
    );
  }
  report(
    `${COLD_LOAD_FUNCTION} cold module load ÷ postgres.js + jose`,
    coldRatio,
    `≤ ${COLD_LOAD_BUDGET.toFixed(1)}×`,
    coldRatio <= COLD_LOAD_BUDGET,
  );
}
