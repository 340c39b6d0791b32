import { RedisBatch } from '../../cache/redis-batch.js';
import type { PendingCheck, RequestState } from './types.js';

/** The request's Redis batch, created on first use (routes without limits never load Redis). */
export function redisBatchOf(state: RequestState): RedisBatch {
  state.redis ??= new RedisBatch();
  return state.redis;
}

/**
 * Adds a check that settles when the request's Redis batch is answered and throws the
 * error that refuses the request (429, 401, 503). Checks apply in the order they were
 * added, which is the order of DESIGN.md § Request path (per-IP limit, deny list, route
 * limit). A rejection is marked handled at once: it may arrive while the handler still runs
 * (safe methods), and it is rethrown by `settleChecks`.
 */
export function addCheck(state: RequestState, check: PendingCheck): void {
  check.catch(() => undefined);
  state.checks.push(check);
}

/**
 * Sends the request's Redis batch (if not sent yet) and waits for every check in order.
 * Errors: the first failing check's error.
 */
export async function settleChecks(state: RequestState): Promise<void> {
  await state.redis?.send();
  for (const check of state.checks) await check;
}
