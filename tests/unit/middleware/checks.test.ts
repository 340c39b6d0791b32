import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RedisBatch } from '../../../shared/cache/redis-batch.js';
import { addCheck, redisBatchOf, settleChecks } from '../../../shared/http/middleware/checks.js';
import { fuzzRuns, requestState } from './harness.js';

class Refusal extends Error {
  constructor(readonly index: number) {
    super(`refusal ${index}`);
  }
}

describe('addCheck / settleChecks', () => {
  it('settles to the first refusal in the order the checks were added, whatever order they answer in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.boolean(), { maxLength: 6 }),
        async (s, refuses) => {
          const state = requestState();
          refuses.forEach((refuse, i) => {
            addCheck(
              state,
              s.schedule(Promise.resolve(i), `check ${i}`).then((index) => {
                if (refuse) throw new Refusal(index);
              }),
            );
          });
          const outcome = await s.waitFor(
            settleChecks(state).then(
              () => 'passed',
              (e: unknown) => e,
            ),
          );
          const first = refuses.indexOf(true);
          if (first < 0) expect(outcome).toBe('passed');
          else expect(outcome).toEqual(new Refusal(first));
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });

  it('creates the request’s Redis batch on first use, and only once', () => {
    const state = requestState();
    expect(state.redis).toBeUndefined();
    const batch = redisBatchOf(state);
    expect(batch).toBeInstanceOf(RedisBatch);
    expect(redisBatchOf(state)).toBe(batch);
    expect(state.redis).toBe(batch);
  });

  it('sends the request’s Redis batch before it waits for the checks', async () => {
    const state = requestState();
    const batch = redisBatchOf(state);
    const answered = batch.exists(`absent-${randomUUID()}`);
    addCheck(
      state,
      answered.then((found) => {
        if (found !== 0) throw new Error('expected the key to be absent');
      }),
    );
    expect(batch.idle).toBe(false);
    await settleChecks(state); // would never settle if the batch were not sent
    expect(batch.idle).toBe(true);
    await expect(answered).resolves.toBe(0);
  });

  it('marks a refusal handled at once: a check that rejects before anyone waits is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const state = requestState();
      addCheck(state, Promise.reject(new Refusal(0)));
      // Node reports unhandled rejections once the microtask queue has drained: by the next
      // macrotask it has decided.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      await expect(settleChecks(state)).rejects.toEqual(new Refusal(0));
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('passes with no checks at all', async () => {
    await expect(settleChecks(requestState())).resolves.toBeUndefined();
  });
});
