import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { problemDetails } from '../../../shared/http/middleware/problem-details.js';
import { redisRoundTrip } from '../../../shared/http/middleware/redis-round-trip.js';
import { requestContext } from '../../../shared/http/middleware/request-context.js';
import { routeLimit } from '../../../shared/http/middleware/route-limit.js';
import type { HttpResult, Middleware } from '../../../shared/http/middleware/types.js';
import type { RateLimitPolicy } from '../../../shared/rate-limits.js';
import { untilRedisAnswers, usePrivateRedis } from '../../helpers/private-redis.js';
import { freshIp, freshPolicy, fuzzRuns, httpEvent, publishMetrics, stack } from './harness.js';

// Its own redis-server (stopped by the fail-mode tests), rate limits on.
const { server } = await usePrivateRedis();

/** Stands in for authentication: the caller is the user the test names in `x-test-user`. */
const signedIn: Middleware = {
  before: (request) => {
    const userId = request.event.headers?.['x-test-user'];
    if (!userId) return;
    request.context.requestState.principal = {
      userId,
      role: 'user',
      tokenId: randomUUID(),
      expiresAt: Math.floor(Date.now() / 1000) + 900,
    };
  },
};

/** A route's stack from the request context to the Redis round trip, limited by `policy`. */
function route(policy: RateLimitPolicy, method = 'GET') {
  const counter = { handled: 0 };
  const call = stack(
    [
      publishMetrics(),
      requestContext(`${method} /t`),
      problemDetails(),
      signedIn,
      routeLimit(policy),
      redisRoundTrip({ concurrent: method === 'GET' }),
    ],
    async () => {
      counter.handled++;
      return { statusCode: 200, body: 'ok' };
    },
  );
  return {
    counter,
    call: (options: { sourceIp?: string; userId?: string } = {}): Promise<HttpResult> =>
      call(
        httpEvent({
          method,
          sourceIp: options.sourceIp ?? freshIp(),
          headers: options.userId ? { 'x-test-user': options.userId } : {},
        }),
      ),
  };
}

describe('routeLimit', () => {
  it('lets exactly min(n, k) of n parallel requests through a budget of k, and 429s the rest', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom('GET', 'POST'),
        fc.constantFrom('ip', 'user') as fc.Arbitrary<'ip' | 'user'>,
        async (n, k, method, identity) => {
          const limited = route(freshPolicy(k, { identity }), method);
          // One caller: one IP (ip policies), or one user from many IPs (user policies).
          const ip = freshIp();
          const userId = randomUUID();
          const results = await Promise.all(
            Array.from({ length: n }, () =>
              identity === 'ip' ? limited.call({ sourceIp: ip }) : limited.call({ userId }),
            ),
          );
          const passed = results.filter((r) => r.statusCode === 200);
          const refused = results.filter((r) => r.statusCode === 429);
          expect(passed).toHaveLength(Math.min(n, k));
          expect(refused).toHaveLength(n - Math.min(n, k));
          for (const result of refused) {
            expect(Number(result.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
            expect(result.headers?.['RateLimit-Policy']).toBe(`${k};w=60`);
            expect(result.headers?.['RateLimit-Remaining']).toBe('0');
          }
          for (const result of passed) expect(result.headers?.['RateLimit-Limit']).toBe(String(k));
          if (method === 'POST') expect(limited.counter.handled).toBe(Math.min(n, k));
        },
      ),
      { numRuns: fuzzRuns(25) },
    );
  });

  it('counts down RateLimit-Remaining on each response', async () => {
    const limited = route(freshPolicy(3));
    const ip = freshIp();
    const remaining = [];
    for (let i = 0; i < 4; i++) {
      remaining.push((await limited.call({ sourceIp: ip })).headers?.['RateLimit-Remaining']);
    }
    expect(remaining).toEqual(['2', '1', '0', '0']);
  });

  it('keys user policies by the verified user, and falls back to the IP without one', async () => {
    const limited = route(freshPolicy(1, { identity: 'user' }));
    const userId = randomUUID();
    expect((await limited.call({ userId })).statusCode).toBe(200);
    expect((await limited.call({ userId })).statusCode).toBe(429); // another IP, same user
    expect((await limited.call({ userId: randomUUID() })).statusCode).toBe(200);
    const ip = freshIp();
    expect((await limited.call({ sourceIp: ip })).statusCode).toBe(200);
    expect((await limited.call({ sourceIp: ip })).statusCode).toBe(429);
    // An ip policy ignores the user: one IP, two users, one budget.
    const byIp = route(freshPolicy(1, { identity: 'ip' }));
    const shared = freshIp();
    expect((await byIp.call({ sourceIp: shared, userId: randomUUID() })).statusCode).toBe(200);
    expect((await byIp.call({ sourceIp: shared, userId: randomUUID() })).statusCode).toBe(429);
  });

  it('applies the fail mode when Redis is down: open lets requests through, closed answers 503', async () => {
    const open = route(freshPolicy(1, { failMode: 'open' }));
    const closed = route(freshPolicy(1, { failMode: 'closed' }), 'POST');
    await server.stop();
    try {
      const ip = freshIp();
      for (let i = 0; i < 3; i++) {
        const result = await open.call({ sourceIp: ip });
        expect(result.statusCode).toBe(200);
        expect(result.headers?.['RateLimit-Limit']).toBeUndefined();
        const refused = await closed.call({ sourceIp: ip });
        expect(refused.statusCode).toBe(503);
        expect(refused.headers?.['Retry-After']).toBe('5');
      }
      expect(closed.counter.handled).toBe(0);
    } finally {
      await server.restart();
      await untilRedisAnswers();
    }
  });
});
