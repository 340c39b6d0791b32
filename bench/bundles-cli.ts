/**
 * `npm run bench:bundles`: the bundle part of `npm run bench` alone (sizes,
 * cold module load, their budget lines), without PostgreSQL or Redis. Exit code 1 on a FAIL.
 */
import { benchBundles } from './bundles.js';

const started = Date.now();
let failed = 0;
await benchBundles((name, ratio, budget, pass) => {
  if (!pass) failed++;
  console.log(`→ ${name}: ${ratio.toFixed(2)}× (budget ${budget}) ${pass ? 'PASS' : 'FAIL'}`);
});
console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (failed) process.exitCode = 1;
