import { getSql } from '../db/client.js';

export type ProbeResult = 'ok' | 'unavailable' | 'disabled';

/** Longest a health probe may take, in ms (API.md § Health: each probe ≤ 1 s). */
export const PROBE_TIMEOUT_MS = 1000;

async function bounded(probe: () => Promise<unknown>, timeoutMs: number): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve('unavailable'), timeoutMs);
  });
  try {
    return await Promise.race([probe().then(() => 'ok' as const), timeout]);
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes each dependency within `PROBE_TIMEOUT_MS`: the database with `SELECT 1`. Redis is
 * `disabled` until the Redis layer is configured. `status` is `ok` only when nothing
 * configured is unavailable.
 */
export async function checkHealth(): Promise<{
  status: 'ok' | 'unavailable';
  db: ProbeResult;
  redis: ProbeResult;
}> {
  const db = await bounded(() => getSql()`SELECT 1`, PROBE_TIMEOUT_MS);
  const redis: ProbeResult = 'disabled';
  return { status: db === 'ok' ? 'ok' : 'unavailable', db, redis };
}
