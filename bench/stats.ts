/** Median and p99 of a sample of durations (ms). */
export function summarize(samples: number[]): { median: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { median: at(0.5), p99: at(0.99), n: sorted.length };
}

/** Times `run` `iterations` times (after `warmup` untimed runs); returns the durations in ms. */
export async function time(
  run: () => Promise<unknown>,
  iterations: number,
  warmup = 50,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Untimed runs of each operation `timePair` makes before its timed blocks. */
export const PAIR_WARMUP = 50;

/**
 * Times two operations fairly: after `PAIR_WARMUP` untimed runs of each, alternating blocks
 * of `block` runs, so drift (GC, caches, the other core) hits both alike. Returns both samples.
 */
export async function timePair(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  iterations: number,
  block = 100,
): Promise<[number[], number[]]> {
  const sa: number[] = [];
  const sb: number[] = [];
  await time(a, 0, PAIR_WARMUP);
  await time(b, 0, PAIR_WARMUP);
  while (sa.length < iterations) {
    sa.push(...(await time(a, Math.min(block, iterations - sa.length), 0)));
    sb.push(...(await time(b, Math.min(block, iterations - sb.length), 0)));
  }
  return [sa, sb];
}

export const ms = (value: number) => `${value.toFixed(3)} ms`;

/** One line of the summary: a ratio against its budget. */
export interface Verdict {
  name: string;
  ratio: number;
  budget: string;
  /** Null for a figure with no budget (`budget: 'report-only'`): printed as INFO, neither PASS nor FAIL. */
  pass: boolean | null;
}
