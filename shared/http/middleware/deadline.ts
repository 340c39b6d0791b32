import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { getConfig } from '../../config.js';
import { startDatabaseDeadline } from '../../db/client.js';

/**
 * Time kept back before the Lambda timeout, in ms: after the deadline the request still has
 * to reject its queries, map the error to a 503 and return it before Lambda ends the
 * invocation (AWS docs, "Configure Lambda function timeout").
 */
export const DEADLINE_MARGIN_MS = 500;

/**
 * The database budget of a request in ms: `configuredMs`, capped by the invocation's
 * remaining time less `marginMs` (`context.getRemainingTimeInMillis()`; undefined or not a
 * finite number outside Lambda: no cap). Never negative: an invocation that is already out
 * of time gets 0, so its first database call fails at once.
 */
export function requestDeadlineMs(
  configuredMs: number,
  remainingMs: number | undefined,
  marginMs = DEADLINE_MARGIN_MS,
): number {
  const cap =
    remainingMs === undefined || !Number.isFinite(remainingMs)
      ? configuredMs
      : remainingMs - marginMs;
  return Math.max(0, Math.floor(Math.min(configuredMs, cap)));
}

export interface RequestDeadlineOptions {
  /** The budget in ms; default `REQUEST_DEADLINE_MS`. */
  deadlineMs?: number;
  /** Kept before the Lambda timeout, in ms; default `DEADLINE_MARGIN_MS`. */
  marginMs?: number;
}

/**
 * Middy middleware that gives each request a deadline for its database work
 * (`requestDeadlineMs` from when it runs): until the request ends, the database client
 * (`startDatabaseDeadline` in `shared/db/client.ts`) closes the connections the request used
 * once the deadline passes, so its queries reject with an error that the problem mapping
 * answers with 503 and `Retry-After`, even when the server hangs without a word. Put it
 * first among the middlewares that can wait on anything, so the budget counts from the
 * request's start. The bound is per request also when one process serves many at once (the
 * local gateway): each request's async context carries its own.
 */
export function requestDeadline(
  options: RequestDeadlineOptions = {},
): MiddlewareObj<unknown, unknown, Error, Context> {
  const finishers = new WeakMap<object, () => void>();
  const finish = (request: Request<unknown, unknown, Error, Context>) => {
    finishers.get(request)?.();
    finishers.delete(request);
  };
  return {
    before: (request) => {
      const configured = options.deadlineMs ?? getConfig().REQUEST_DEADLINE_MS;
      const remaining = request.context?.getRemainingTimeInMillis?.();
      const budget = requestDeadlineMs(configured, remaining, options.marginMs);
      finishers.set(request, startDatabaseDeadline(budget));
    },
    after: finish,
    onError: finish,
  };
}
