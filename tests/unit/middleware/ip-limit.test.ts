import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { msUntilRoom, slidingWindowUsage } from '../../../shared/cache/rate-limiter.js';
import { Unauthenticated } from '../../../shared/errors.js';
import { refusedCredential, sourceIpOf } from '../../../shared/http/middleware/ip-limit.js';
import { redisRoundTrip } from '../../../shared/http/middleware/redis-round-trip.js';
import type { HttpEvent } from '../../../shared/http/middleware/types.js';
import { rateLimitPolicies } from '../../../shared/rate-limits.js';
import {
  stack as compose,
  freshIp,
  fuzzRuns,
  httpEvent,
  problemOf,
  stackFront,
} from './harness.js';

// The budgets live in the real Redis the test setup starts; limits are on in this file.
process.env.RATE_LIMITS = 'on';

/** A request from `sourceIp` (none: a hand-made event without one). */
function event(sourceIp: string | undefined, headers: Record<string, string> = {}): HttpEvent {
  const built = httpEvent({ headers });
  (built.requestContext.http as { sourceIp: string | undefined }).sourceIp = sourceIp;
  return built;
}

/**
 * A stack like `createHandler`'s: metrics, request context, problem details, the per-IP limit,
 * then a stand-in for authentication that refuses `Bearer bad` (marked), the Redis round trip
 * (concurrent on GET, as for safe methods), and a handler that counts its runs and throws an
 * unmarked 401 for `/wrong-password` (like login does).
 */
function stack(limits: { requests: number; refused: number }, method = 'GET') {
  const counter = { handled: 0 };
  const call = compose(
    [
      ...stackFront(`${method} /t`, limits),
      {
        before: (request) => {
          const header = request.event.headers?.authorization;
          if (!header) return;
          if (header === 'Bearer bad') throw refusedCredential(new Unauthenticated('refused'));
        },
      },
      redisRoundTrip({ concurrent: method === 'GET' }),
    ],
    async (e) => {
      counter.handled++;
      if (e.rawPath === '/wrong-password') throw new Unauthenticated('not a token');
      return { statusCode: 200, body: 'ok' };
    },
  );
  return {
    call: (e: HttpEvent) => {
      e.requestContext.http.method = method;
      return call(e);
    },
    counter,
  };
}

describe('sourceIpOf', () => {
  const spoofable = fc.dictionary(
    fc.constantFrom(
      'x-forwarded-for',
      'forwarded',
      'x-real-ip',
      'true-client-ip',
      'cf-connecting-ip',
      'x-client-ip',
      'via',
    ),
    fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()),
  );

  it('is API Gateway’s sourceIp whatever the headers say', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), spoofable, (ip, headers) => {
        expect(sourceIpOf(event(ip, headers))).toBe(ip);
      }),
    );
  });

  it('never falls back to a header when the event has no sourceIp', () => {
    fc.assert(
      fc.property(spoofable, (headers) => {
        expect(sourceIpOf(event(undefined, headers))).toBe('unknown');
      }),
    );
  });
});

describe('ipLimit', () => {
  it('the contract’s per-IP budgets, its defaults, are 1,200 requests and 60 refused credentials per minute (exercised end to end in tests/e2e/rate-limits.test.ts)', () => {
    expect(rateLimitPolicies.ipRequests).toMatchObject({ limit: 1200, windowSeconds: 60 });
    expect(rateLimitPolicies.ipRefusedCredentials).toMatchObject({ limit: 60, windowSeconds: 60 });
  });

  it('answers 429 with Retry-After once an IP has spent its request budget; other IPs go on', async () => {
    const { call } = stack({ requests: 3, refused: 100 });
    const ip = freshIp();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(event(ip))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await call(event(ip));
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers?.['Retry-After'])).toBeLessThanOrEqual(120);
    expect(limited.headers?.['RateLimit-Policy']).toBe('3;w=60');
    expect(limited.headers?.['RateLimit-Remaining']).toBe('0');
    expect((await call(event(freshIp()))).statusCode).toBe(200);
  });

  it('turns refusals past the budget into 429, then refuses the IP whatever it presents', async () => {
    const { call, counter } = stack({ requests: 100, refused: 2 });
    const ip = freshIp();
    const bad = () => call(event(ip, { authorization: 'Bearer bad' }));
    expect([(await bad()).statusCode, (await bad()).statusCode]).toEqual([401, 401]);
    const third = await bad();
    expect(third.statusCode).toBe(429);
    expect(third.headers?.['RateLimit-Policy']).toBe('2;w=60');
    const handled = counter.handled;
    const good = await call(event(ip, { authorization: 'Bearer good' }));
    expect(good.statusCode).toBe(429);
    expect(Number(good.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(problemOf(good).status).toBe(429); // the handler's result is not sent
    expect(counter.handled).toBe(handled + 1); // a GET's handler overlaps the round trip…
    const post = stack({ requests: 100, refused: 1 }, 'POST');
    const postIp = freshIp();
    await post.call(event(postIp, { authorization: 'Bearer bad' }));
    expect((await post.call(event(postIp, { authorization: 'Bearer good' }))).statusCode).toBe(429);
    expect(post.counter.handled).toBe(0); // …a POST's never runs once the IP is refused
    expect((await call(event(freshIp(), { authorization: 'Bearer good' }))).statusCode).toBe(200);
  });

  it('answers at most the budget’s worth of 401s to parallel refused credentials', async () => {
    const { call } = stack({ requests: 100, refused: 3 });
    const ip = freshIp();
    const results = await Promise.all(
      Array.from({ length: 12 }, () => call(event(ip, { authorization: 'Bearer bad' }))),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([...Array(3).fill(401), ...Array(9).fill(429)]);
  });

  it('does not count 401s that are not refused credentials (a wrong password)', async () => {
    const { call } = stack({ requests: 100, refused: 1 });
    const ip = freshIp();
    const wrongPassword = { ...event(ip), rawPath: '/wrong-password' };
    for (let i = 0; i < 3; i++) expect((await call(wrongPassword)).statusCode).toBe(401);
    expect((await call(event(ip, { authorization: 'Bearer good' }))).statusCode).toBe(200);
  });

  it('lets exactly min(n, k) of n parallel requests through a request budget of k', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom('GET', 'POST'),
        async (n, k, method) => {
          const { call, counter } = stack({ requests: k, refused: 100 }, method);
          const ip = freshIp();
          const results = await Promise.all(Array.from({ length: n }, () => call(event(ip))));
          const statuses = results.map((r) => r.statusCode);
          expect(statuses.filter((s) => s === 200)).toHaveLength(Math.min(n, k));
          expect(statuses.filter((s) => s === 429)).toHaveLength(n - Math.min(n, k));
          if (method === 'POST') expect(counter.handled).toBe(Math.min(n, k));
        },
      ),
      { numRuns: fuzzRuns(25) },
    );
  });

  it('keys budgets by sourceIp only: spoofed forwarding headers neither escape nor spend a budget', async () => {
    const { call } = stack({ requests: 1, refused: 100 });
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('x-forwarded-for', 'forwarded', 'x-real-ip', 'true-client-ip'),
          fc.ipV4(),
        ),
        async (headers) => {
          const spent = freshIp();
          const other = freshIp();
          expect((await call(event(spent))).statusCode).toBe(200);
          // The spent IP claiming to be someone else is still the spent IP…
          expect(
            (await call(event(spent, { ...headers, 'x-forwarded-for': other }))).statusCode,
          ).toBe(429);
          // …and someone else claiming to be the spent IP keeps their own budget.
          expect(
            (await call(event(other, { ...headers, 'x-forwarded-for': spent }))).statusCode,
          ).toBe(200);
        },
      ),
      { numRuns: fuzzRuns(30) },
    );
  });
});

describe('sliding-window retry time', () => {
  /** Usage at `at`, straight from the definition: previous window weighted, plus current. */
  function usageAt(
    counts: { current: number; previous: number },
    w: number,
    now: number,
    at: number,
  ) {
    const start = Math.floor(now / w) * w;
    const window = Math.floor(at / w) * w;
    if (window === start) return counts.previous * (1 - (at - start) / w) + counts.current;
    if (window === start + w) return counts.current * (1 - (at - window) / w);
    return 0;
  }

  const state = fc.record({
    limit: fc.integer({ min: 1, max: 2000 }),
    windowMs: fc.integer({ min: 1000, max: 3_600_000 }),
    now: fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
    current: fc.integer({ min: 0, max: 4000 }),
    previous: fc.integer({ min: 0, max: 4000 }),
  });

  it('matches the definition of the usage', () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 0, max: 10_000_000 }), (s, later) => {
        const counts = { current: s.current, previous: s.previous };
        expect(slidingWindowUsage(counts, s.windowMs, s.now, s.now + later)).toBeCloseTo(
          usageAt(counts, s.windowMs, s.now, s.now + later),
          6,
        );
      }),
    );
  });

  it('is the earliest moment the budget has room for one more token', () => {
    fc.assert(
      fc.property(state, (s) => {
        const counts = { current: s.current, previous: s.previous };
        const wait = msUntilRoom(counts, s.limit, s.windowMs, s.now);
        expect(wait).toBeGreaterThanOrEqual(0);
        expect(wait).toBeLessThanOrEqual(2 * s.windowMs);
        expect(usageAt(counts, s.windowMs, s.now, s.now + wait) + 1).toBeLessThanOrEqual(
          s.limit + 1e-6,
        );
        if (wait > 0) {
          expect(usageAt(counts, s.windowMs, s.now, s.now + wait - 1) + 1).toBeGreaterThan(
            s.limit - 1e-6,
          );
        }
      }),
    );
  });
});
