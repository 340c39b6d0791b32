import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { getConfig } from '../../../shared/config.js';
import {
  closeSql,
  currentDatabaseDeadline,
  DatabaseDeadlineExceeded,
  getSql,
  isDatabaseUnavailable,
} from '../../../shared/db/client.js';
import {
  DEADLINE_MARGIN_MS,
  requestDeadline,
  requestDeadlineMs,
} from '../../../shared/http/middleware/deadline.js';
import { errorToProblem } from '../../../shared/http/problem.js';

afterAll(() => closeSql());

/** A Lambda context whose remaining time is always `remainingMs` (a frozen clock). */
function contextWithRemaining(remainingMs: number | undefined): Context {
  return (
    remainingMs === undefined ? {} : { getRemainingTimeInMillis: () => remainingMs }
  ) as Context;
}

/** A middy handler with only the deadline middleware, running `work` as its handler. */
function withDeadline<T>(work: () => Promise<T>, options?: { deadlineMs?: number }) {
  return middy<unknown, T>()
    .use(requestDeadline(options))
    .handler(() => work());
}

/** Waits (polling, no fixed sleep) until the current request's deadline has passed. */
async function untilExpired(): Promise<void> {
  await vi.waitFor(() => expect(currentDatabaseDeadline()?.expired).toBe(true), {
    timeout: 2000,
    interval: 1,
  });
}

describe('requestDeadlineMs', () => {
  it('never exceeds the configured budget nor the remaining Lambda time less the margin', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 900_000 }),
        fc.integer({ min: 0, max: 900_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        (configured, remaining, margin) => {
          const budget = requestDeadlineMs(configured, remaining, margin);
          expect(budget).toBeGreaterThanOrEqual(0);
          expect(budget).toBeLessThanOrEqual(configured);
          expect(budget).toBeLessThanOrEqual(Math.max(0, remaining - margin));
          // …and it is the larger of the two bounds that is not used: nothing is lost.
          expect(budget).toBe(Math.max(0, Math.min(configured, remaining - margin)));
        },
      ),
    );
  });

  it('uses the configured budget where there is no Lambda clock', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 900_000 }),
        fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY),
        (configured, remaining) => {
          expect(requestDeadlineMs(configured, remaining)).toBe(configured);
        },
      ),
    );
  });
});

describe('requestDeadline middleware', () => {
  it('gives the handler min(REQUEST_DEADLINE_MS, remaining time - margin)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 100, max: 60_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        async (configured, remaining) => {
          const handler = withDeadline(async () => currentDatabaseDeadline(), {
            deadlineMs: configured,
          });
          const seen = await handler({}, contextWithRemaining(remaining));
          const budget = seen?.budgetMs ?? Number.NaN;
          expect(budget).toBeLessThanOrEqual(configured);
          expect(budget).toBeLessThanOrEqual(Math.max(0, remaining - DEADLINE_MARGIN_MS));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('reads REQUEST_DEADLINE_MS when not told otherwise', async () => {
    const handler = withDeadline(async () => currentDatabaseDeadline());
    expect(await handler({}, contextWithRemaining(undefined))).toEqual({
      budgetMs: getConfig().REQUEST_DEADLINE_MS,
      expired: false,
    });
  });

  it('lets a request within its budget use the database client', async () => {
    const handler = withDeadline(async () => typeof getSql());
    expect(await handler({}, contextWithRemaining(29_000))).toBe('function');
  });

  it('ends the bound with the request: code that runs on afterwards is not limited', async () => {
    const handler = withDeadline(async () => currentDatabaseDeadline()?.expired);
    expect(await handler({}, contextWithRemaining(29_000))).toBe(false);
    expect(currentDatabaseDeadline()).toBeUndefined();
    expect(typeof getSql()).toBe('function');
  });

  it('after the deadline, refuses new database work with an error that maps to 503 + Retry-After', async () => {
    const handler = withDeadline(async () => {
      await untilExpired();
      return getSql();
    });
    // No time left on the Lambda clock beyond the margin: a budget of 0 ms.
    const error = await handler({}, contextWithRemaining(DEADLINE_MARGIN_MS)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseDeadlineExceeded);
    expect(isDatabaseUnavailable(error)).toBe(true);
    const problem = errorToProblem(error, { requestId: 'r-1', instance: '/api/v1/notes' });
    expect(problem.statusCode).toBe(503);
    expect(problem.headers?.['Retry-After']).toBe('5');
    expect(problem.headers?.['Content-Type']).toBe('application/problem+json');
    // The request is over: its caller's own database work is not refused.
    expect(currentDatabaseDeadline()).toBeUndefined();
    expect(typeof getSql()).toBe('function');
  });

  it('keeps concurrent requests apart: one request passing its deadline does not limit another', async () => {
    // Concurrent invocations in one process, as Lambda Managed Instances and the local
    // gateway run them (one at a time, as on demand, needs no async context).
    vi.stubEnv('AWS_LAMBDA_MAX_CONCURRENCY', '64');
    let expiredOne: Promise<unknown> | undefined;
    const late = withDeadline(async () => {
      await untilExpired();
      return getSql();
    });
    const onTime = withDeadline(
      async () => {
        // Runs while the other request is past its deadline.
        await expiredOne?.catch(() => {});
        return { deadline: currentDatabaseDeadline(), sql: typeof getSql() };
      },
      { deadlineMs: 20_000 },
    );
    expiredOne = late({}, contextWithRemaining(DEADLINE_MARGIN_MS));
    const [lateResult, onTimeResult] = await Promise.allSettled([
      expiredOne,
      onTime({}, contextWithRemaining(29_000)),
    ]);
    vi.unstubAllEnvs();
    expect(lateResult.status).toBe('rejected');
    expect(onTimeResult).toEqual({
      status: 'fulfilled',
      value: { deadline: { budgetMs: 20_000, expired: false }, sql: 'function' },
    });
  });
});

describe('isDatabaseUnavailable', () => {
  it('counts the server-side timeouts as the database being unavailable', () => {
    for (const code of ['57014', '55P03', '25P03', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']) {
      expect(isDatabaseUnavailable(Object.assign(new Error(code), { code })), code).toBe(true);
    }
    expect(isDatabaseUnavailable(Object.assign(new Error('unique'), { code: '23505' }))).toBe(
      false,
    );
  });
});
