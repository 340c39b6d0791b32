import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotFound } from '../../../shared/errors.js';
import { problemDetails } from '../../../shared/http/middleware/problem-details.js';
import { requestContext, requestIdFrom } from '../../../shared/http/middleware/request-context.js';
import type { RequestState } from '../../../shared/http/middleware/types.js';
import { logger } from '../../../shared/logger.js';
import { getMetrics } from '../../../shared/observability.js';
import { fuzzRuns, httpEvent, problemOf, publishMetrics, stack } from './harness.js';

// Read when the instance's metrics are created (on first use): set before any request.
process.env.POWERTOOLS_METRICS_NAMESPACE = 'test';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Header values a client may send: valid ids, near misses, and anything at all. */
const headerValue = fc.oneof(
  fc.stringMatching(REQUEST_ID),
  fc.string({
    minLength: 120,
    maxLength: 140,
    unit: fc.constantFrom('a', 'Z', '0', '.', '_', '-'),
  }),
  fc.constantFrom('', ' ', 'a b', 'a/b', '<script>', 'é', 'id\n', '\u0000', 'x'.repeat(129)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('requestIdFrom', () => {
  it('keeps any valid X-Request-ID, and answers anything else with a new UUID', () => {
    fc.assert(
      fc.property(headerValue, fc.constantFrom('x-request-id', 'X-Request-ID'), (value, name) => {
        const id = requestIdFrom({ [name]: value });
        expect(id).toMatch(REQUEST_ID);
        if (REQUEST_ID.test(value)) expect(id).toBe(value);
        else expect(id).toMatch(UUID);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('makes a new id for each request without one', () => {
    const ids = new Set(Array.from({ length: 20 }, () => requestIdFrom(undefined)));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(requestIdFrom({})).toMatch(UUID);
  });
});

describe('requestContext middleware', () => {
  it('creates a fresh request state for each request: its id, no checks, no Redis batch yet', async () => {
    const states: RequestState[] = [];
    const call = stack([publishMetrics(), requestContext('GET /t')], async (_event, context) => {
      states.push(context.requestState);
      return { statusCode: 200 };
    });
    await call(httpEvent({ headers: { 'x-request-id': 'client-id-1' } }));
    await call(httpEvent());
    const [first, second] = states as [RequestState, RequestState];
    expect(first.requestId).toBe('client-id-1');
    expect(second.requestId).toMatch(UUID);
    for (const state of [first, second]) {
      // Created by the first middleware that queues a command (`redisBatchOf`).
      expect(state.redis).toBeUndefined();
      expect(state.checks).toEqual([]);
      expect(Number.isFinite(state.startedAt)).toBe(true);
    }
    expect(first.checks).not.toBe(second.checks);
  });

  it('puts X-Request-ID and the rate-limit headers on every response, errors included', async () => {
    await fc.assert(
      fc.asyncProperty(
        headerValue,
        fc.boolean(),
        fc.dictionary(
          fc.constantFrom('RateLimit-Limit', 'RateLimit-Remaining', 'ETag'),
          fc.string(),
        ),
        async (given, fails, own) => {
          let stateId = '';
          const call = stack(
            [publishMetrics(), requestContext('GET /t'), problemDetails()],
            async (_event, context) => {
              stateId = context.requestState.requestId;
              context.requestState.responseHeaders = {
                'RateLimit-Limit': '10',
                'RateLimit-Remaining': '9',
              };
              if (fails) throw new NotFound();
              return { statusCode: 200, headers: { ...own, 'X-Request-ID': 'forged' } };
            },
          );
          const result = await call(httpEvent({ headers: { 'x-request-id': given } }));
          const headers = result.headers ?? {};
          expect(headers['X-Request-ID']).toBe(stateId);
          if (REQUEST_ID.test(given)) expect(stateId).toBe(given);
          else expect(stateId).toMatch(UUID);
          if (fails) {
            expect(result.statusCode).toBe(404);
            expect(problemOf(result).request_id).toBe(stateId);
            expect(headers['RateLimit-Remaining']).toBe('9');
          } else {
            // The handler's own headers win over the stack's, but never over the request id.
            expect(headers['RateLimit-Limit']).toBe(own['RateLimit-Limit'] ?? '10');
            expect(headers['RateLimit-Remaining']).toBe(own['RateLimit-Remaining'] ?? '9');
          }
        },
      ),
      { numRuns: fuzzRuns(50) },
    );
  });

  it('writes one log line per request with method, path, route, status and duration', async () => {
    const info = vi.spyOn(logger, 'info');
    const ok = stack([publishMetrics(), requestContext('GET /notes/{id}')]);
    const failing = stack(
      [publishMetrics(), requestContext('GET /notes/{id}'), problemDetails()],
      async () => {
        throw new NotFound();
      },
    );
    await ok(httpEvent({ path: '/notes/1' }));
    await failing(httpEvent({ path: '/notes/2' }));
    const lines = info.mock.calls.filter(([message]) => message === 'request');
    expect(lines).toHaveLength(2);
    expect(lines.map(([, fields]) => fields)).toEqual([
      {
        method: 'GET',
        path: '/notes/1',
        route: 'GET /notes/{id}',
        status: 200,
        duration_ms: expect.any(Number),
      },
      {
        method: 'GET',
        path: '/notes/2',
        route: 'GET /notes/{id}',
        status: 404,
        duration_ms: expect.any(Number),
      },
    ]);
  });

  it('records Latency and the 4xx/5xx counts of every request under its route', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 200, max: 599 }), fc.constant('thrown' as const)),
        async (outcome) => {
          let emf: Record<string, unknown> = {};
          // Reads what `requestContext` recorded just before `logMetrics` publishes it.
          const capture = () => {
            emf = getMetrics().serializeMetrics() as unknown as Record<string, unknown>;
          };
          const call = stack(
            [publishMetrics(), { after: capture, onError: capture }, requestContext('PUT /x/{id}')],
            async () => {
              if (outcome === 'thrown') throw new Error('no response');
              return { statusCode: outcome };
            },
          );
          await call(httpEvent()).catch(() => undefined);
          const status = outcome === 'thrown' ? 500 : outcome; // no response counts as a 5xx
          expect(emf).toMatchObject({
            route: 'PUT /x/{id}',
            ClientErrors: status >= 400 && status < 500 ? 1 : 0,
            ServerErrors: status >= 500 ? 1 : 0,
          });
          expect(emf.Latency).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: fuzzRuns(50) },
    );
  });
});
