import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TOKEN_CACHE_MAX_AGE_MS,
  TOKEN_CACHE_SIZE,
  TokenCache,
} from '../../shared/auth/token-cache.js';
import {
  CLOCK_TOLERANCE_SECONDS,
  issueAccessToken,
  type Principal,
} from '../../shared/auth/tokens.js';
import { Unauthenticated } from '../../shared/errors.js';
import { fuzzRuns } from './middleware/harness.js';

const NOW = 1_800_000_000_000;

/** A verifier that records the tokens it is asked about; principals expire at `expiresAt(token)`. */
function verifier(expiresAt: (token: string) => number = () => NOW / 1000 + 900) {
  const asked: string[] = [];
  const verify = async (token: string): Promise<Principal> => {
    asked.push(token);
    return {
      userId: `user-${token}`,
      role: 'user',
      tokenId: `jti-${token}`,
      expiresAt: expiresAt(token),
    };
  };
  return { asked, verify };
}

describe('TokenCache', () => {
  it('keeps at most `size` tokens and evicts the least recently used one first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 40 }),
        async (size, accesses) => {
          const { asked, verify } = verifier();
          const cache = new TokenCache(size, TOKEN_CACHE_MAX_AGE_MS, verify);
          // The model: most recently used last.
          let lru: string[] = [];
          const misses: string[] = [];
          for (const access of accesses) {
            const token = `t${access}`;
            if (!lru.includes(token)) misses.push(token);
            lru = [...lru.filter((t) => t !== token), token].slice(-size);
            const principal = await cache.principalOf(token, NOW);
            expect(principal.userId).toBe(`user-${token}`);
            expect(cache.count).toBeLessThanOrEqual(size);
          }
          expect(asked).toEqual(misses);
          expect(cache.count).toBe(lru.length);
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });

  it('never uses an entry past exp + the clock tolerance, nor past its max age', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1_000, max: 300_000 }),
        // exp relative to the first verification, seconds (may be already past within the skew)
        fc.integer({ min: -CLOCK_TOLERANCE_SECONDS + 1, max: 900 }),
        fc.array(fc.integer({ min: 0, max: 400_000 }), { minLength: 1, maxLength: 12 }),
        async (maxAgeMs, expIn, steps) => {
          const exp = Math.floor(NOW / 1000) + expIn;
          const { asked, verify } = verifier(() => exp);
          const cache = new TokenCache(10, maxAgeMs, verify);
          await cache.principalOf('t', NOW);
          let verifiedAt = NOW;
          let now = NOW;
          for (const step of steps) {
            now += step;
            const before = asked.length;
            await cache.principalOf('t', now);
            const hit = asked.length === before;
            const usable =
              now < (exp + CLOCK_TOLERANCE_SECONDS) * 1000 && now < verifiedAt + maxAgeMs;
            expect(hit).toBe(usable);
            if (!hit) verifiedAt = now;
          }
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });

  it('never caches a failure: the next request verifies again', async () => {
    let fail = true;
    const asked: string[] = [];
    const cache = new TokenCache(10, TOKEN_CACHE_MAX_AGE_MS, async (token) => {
      asked.push(token);
      if (fail) throw new Unauthenticated('invalid');
      return { userId: 'u', role: 'user', tokenId: 'j', expiresAt: NOW / 1000 + 900 };
    });
    await expect(cache.principalOf('t', NOW)).rejects.toBeInstanceOf(Unauthenticated);
    await expect(cache.principalOf('t', NOW)).rejects.toBeInstanceOf(Unauthenticated);
    expect(cache.count).toBe(0);
    fail = false;
    await expect(cache.principalOf('t', NOW)).resolves.toMatchObject({ userId: 'u' });
    expect(asked).toEqual(['t', 't', 't']);
    expect(cache.count).toBe(1);
  });

  it('drops an expired entry when verification then fails', async () => {
    let fail = false;
    const cache = new TokenCache(10, 1000, async () => {
      if (fail) throw new Unauthenticated('expired');
      return { userId: 'u', role: 'user', tokenId: 'j', expiresAt: NOW / 1000 + 900 };
    });
    await cache.principalOf('t', NOW);
    fail = true;
    await expect(cache.principalOf('t', NOW + 1000)).rejects.toBeInstanceOf(Unauthenticated);
    expect(cache.count).toBe(0);
  });

  it('remembers real access tokens verified with the public keys, and refuses a tampered one', async () => {
    expect(TOKEN_CACHE_SIZE).toBe(1000);
    expect(TOKEN_CACHE_MAX_AGE_MS).toBe(60_000);
    const cache = new TokenCache();
    const id = randomUUID();
    const { token } = await issueAccessToken({ id, role: 'admin' });
    const first = await cache.principalOf(token);
    expect(first).toMatchObject({ userId: id, role: 'admin' });
    expect(await cache.principalOf(token)).toBe(first); // the remembered principal
    expect(cache.count).toBe(1);
    const tampered = `${token.slice(0, -4)}AAAA`;
    await expect(cache.principalOf(tampered)).rejects.toBeInstanceOf(Unauthenticated);
    expect(cache.count).toBe(1);
  });
});
