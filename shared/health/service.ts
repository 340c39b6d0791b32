import { pingRedis } from '../cache/redis.js';
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
 * Probes each dependency, in parallel, within `PROBE_TIMEOUT_MS`: the database with
 * `SELECT 1`, Redis with `PING` (`disabled` when no Redis is configured, which is not a
 * failure). `status` is `ok` only when nothing configured is unavailable.
 */
export async function checkHealth(): Promise<{
  status: 'ok' | 'unavailable';
  db: ProbeResult;
  redis: ProbeResult;
}> {
  const [db, redis] = await Promise.all([
    bounded(() => getSql()`SELECT 1`, PROBE_TIMEOUT_MS),
    pingRedis(PROBE_TIMEOUT_MS),
  ]);
  const ok = db === 'ok' && redis !== 'unavailable';
  return { status: ok ? 'ok' : 'unavailable', db, redis };
}
