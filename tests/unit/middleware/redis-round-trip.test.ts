import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { RedisBatch } from '../../../shared/cache/redis-batch.js';
import { AppError, NotFound, ValidationFailed } from '../../../shared/errors.js';
import { addCheck, redisBatchOf } from '../../../shared/http/middleware/checks.js';
import { problemDetails } from '../../../shared/http/middleware/problem-details.js';
import { redisRoundTrip } from '../../../shared/http/middleware/redis-round-trip.js';
import type {
  Middleware,
  PendingCheck,
  RequestState,
} from '../../../shared/http/middleware/types.js';
import {
  deferred,
  fuzzRuns,
  httpEvent,
  problemOf,
  requestState,
  stack,
  withState,
} from './harness.js';

/** A real batch whose `send()` waits until the test opens its gate: Redis "answers" then. */
class DeferredBatch extends RedisBatch {
  readonly gate = deferred();
  sendCalls = 0;
  override send(): Promise<void> {
    this.sendCalls++;
    return this.gate.promise.then(() => super.send());
  }
}

/** A middleware that adds `checks()` as the request's checks, like the limits do in `before`. */
function addChecks(checks: (state: RequestState) => PendingCheck[]): Middleware {
  return {
    before: (request) => {
      const state = request.context.requestState;
      for (const check of checks(state)) addCheck(state, check);
    },
  };
}

const SAFE = { concurrent: true };
const UNSAFE = { concurrent: false };

describe('redisRoundTrip', () => {
  it('lets the first refusal in order win over anything else, for any order the checks answer in', async () => {
    const outcome = fc.constantFrom('pass', 'refuse', 'refuse-early');
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(outcome, { maxLength: 5 }),
        fc.boolean(),
        fc.constantFrom('ok', 'throws', 'invalid-input'),
        async (s, outcomes, concurrent, handlerDoes) => {
          let handled = 0;
          const call = stack(
            [
              withState(() => requestState()),
              problemDetails(),
              addChecks(() =>
                outcomes.map((kind, i) => {
                  const refusal = new AppError('rate_limited', `refusal-${i}`);
                  // A check may even have failed before the round trip is sent.
                  if (kind === 'refuse-early') return Promise.reject(refusal);
                  return s.schedule(Promise.resolve(kind), `check ${i}`).then(() => {
                    if (kind === 'refuse') throw refusal;
                  });
                }),
              ),
              redisRoundTrip({ concurrent }),
              {
                before: () => {
                  // Like validation after the round trip: a client error of the request itself.
                  if (handlerDoes === 'invalid-input') {
                    throw new ValidationFailed([{ field: 'a', code: 'c', message: 'm' }]);
                  }
                },
              },
            ],
            async () => {
              handled++;
              await s.schedule(Promise.resolve(), 'handler query');
              if (handlerDoes === 'throws') throw new NotFound('handler-error');
              return { statusCode: 200, body: 'handler-secret' };
            },
          );
          const result = await s.waitFor(call(httpEvent()));
          const first = outcomes.findIndex((kind) => kind !== 'pass');
          if (first >= 0) {
            expect(result.statusCode).toBe(429);
            expect(problemOf(result).detail).toBe(`refusal-${first}`);
            expect(String(result.body)).not.toContain('handler-secret');
            expect(String(result.body)).not.toContain('handler-error');
            // Unsafe methods never run their handler when a check refuses.
            if (!concurrent) expect(handled).toBe(0);
          } else if (handlerDoes === 'ok') {
            expect(result).toMatchObject({ statusCode: 200, body: 'handler-secret' });
          } else {
            expect(result.statusCode).toBe(handlerDoes === 'throws' ? 404 : 422);
          }
          if (handlerDoes !== 'invalid-input' && (concurrent || first < 0)) expect(handled).toBe(1);
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });

  it('on GET, starts the handler before Redis answers, and the response waits for the answer', async () => {
    const batch = new DeferredBatch();
    const order: string[] = [];
    const call = stack(
      [
        withState(() => requestState(batch)),
        problemDetails(),
        addChecks((state) => [
          redisBatchOf(state)
            .exists(`k-${randomUUID()}`)
            .then(() => {
              order.push('redis answered');
            }),
        ]),
        redisRoundTrip(SAFE),
      ],
      async () => {
        order.push('handler started');
        expect(batch.sendCalls).toBe(1); // the batch is on its way…
        batch.gate.resolve(); // …and only now does Redis answer
        return { statusCode: 200, body: 'ok' };
      },
    );
    const result = await call(httpEvent({ method: 'GET' }));
    expect(order).toEqual(['handler started', 'redis answered']);
    expect(result.statusCode).toBe(200);
  });

  it('on GET, refuses the response after the handler ran when Redis says so', async () => {
    const batch = new DeferredBatch();
    const call = stack(
      [
        withState(() => requestState(batch)),
        problemDetails(),
        addChecks((state) => [
          redisBatchOf(state)
            .exists(`k-${randomUUID()}`)
            .then(() => {
              throw new AppError('rate_limited', 'over budget');
            }),
        ]),
        redisRoundTrip(SAFE),
      ],
      async () => {
        batch.gate.resolve();
        return { statusCode: 200, body: 'private data' };
      },
    );
    const result = await call(httpEvent({ method: 'GET' }));
    expect(result.statusCode).toBe(429);
    expect(String(result.body)).not.toContain('private data');
  });

  it('on POST, runs the handler only after Redis answered', async () => {
    const batch = new DeferredBatch();
    const order: string[] = [];
    const call = stack(
      [
        withState(() => requestState(batch)),
        problemDetails(),
        addChecks((state) => [
          redisBatchOf(state)
            .exists(`k-${randomUUID()}`)
            .then(() => {
              order.push('redis answered');
            }),
        ]),
        redisRoundTrip(UNSAFE),
      ],
      async () => {
        order.push('handler started');
        return { statusCode: 201, body: 'created' };
      },
    );
    const pending = call(httpEvent({ method: 'POST' }));
    await vi.waitFor(() => expect(batch.sendCalls).toBe(1), { timeout: 2000, interval: 1 });
    expect(order).toEqual([]);
    batch.gate.resolve();
    expect((await pending).statusCode).toBe(201);
    expect(order).toEqual(['redis answered', 'handler started']);
  });
});
