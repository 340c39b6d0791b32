import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { importJWK, type JWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { revokeAccessToken } from '../../../shared/auth/revocation.js';
import { TokenCache } from '../../../shared/auth/token-cache.js';
import {
  ACCESS_TOKEN_TYPE,
  issueAccessToken,
  type Principal,
  type Role,
  verifyAccessToken,
} from '../../../shared/auth/tokens.js';
import { Unauthenticated } from '../../../shared/errors.js';
import { authentication, bearerToken } from '../../../shared/http/middleware/authentication.js';
import { redisRoundTrip } from '../../../shared/http/middleware/redis-round-trip.js';
import { freshIp, fuzzRuns, httpEvent, problemOf, stack, stackFront } from './harness.js';

// Refused credentials are counted by the per-IP limit in the real Redis of the test setup.
process.env.RATE_LIMITS = 'on';

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

const tokenFor = async (role: Role = 'user') =>
  (await issueAccessToken({ id: randomUUID(), role })).token;

/** A token signed with the real key whose lifetime ended `agoSeconds` ago (past the skew). */
async function expiredToken(agoSeconds = 120): Promise<string> {
  const key = JSON.parse(process.env.JWT_SIGNING_KEYS as string).keys[0] as JWK & { kid: string };
  const ttl = Number(process.env.ACCESS_TOKEN_TTL_SECONDS ?? 900);
  const exp = Math.floor(Date.now() / 1000) - agoSeconds;
  return new SignJWT({ role: 'user' })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(process.env.JWT_ISSUER as string)
    .setAudience(process.env.JWT_AUDIENCE as string)
    .setSubject(randomUUID())
    .setJti(randomUUID())
    .setIssuedAt(exp - ttl)
    .setExpirationTime(exp)
    .sign(await importJWK(key, 'ES256'));
}

/**
 * The stack of a signed-in route as `createHandler` builds it (request context, problem
 * details, the per-IP limit with a small refused-credential budget, authentication, the Redis
 * round trip), with a handler that reports the principal it was given.
 */
function route(
  requirement: 'user' | 'admin',
  options: { refused?: number; requests?: number; method?: string; cache?: TokenCache } = {},
) {
  const seen: (Principal | undefined)[] = [];
  const call = stack(
    [
      ...stackFront('GET /t', options),
      authentication({ requirement, ...(options.cache ? { cache: options.cache } : {}) }),
      redisRoundTrip({ concurrent: (options.method ?? 'GET') === 'GET' }),
    ],
    async (_event, context) => {
      seen.push(context.requestState.principal);
      return { statusCode: 200, body: 'ok' };
    },
  );
  return {
    seen,
    call: (headers: Record<string, string>, sourceIp = freshIp()) =>
      call(httpEvent({ method: options.method ?? 'GET', headers, sourceIp })),
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('bearerToken (RFC 6750 §2.1)', () => {
  it('reads the token of any scheme casing and any run of spaces', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(B64TOKEN),
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR'),
        fc.integer({ min: 1, max: 4 }),
        (token, scheme, spaces) => {
          expect(bearerToken(`${scheme}${' '.repeat(spaces)}${token}`)).toBe(token);
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });

  it('answers any other header with 401 invalid_request, never another error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom('Basic dXNlcjpwdw==', 'Bearer', 'Bearer ', 'Bearerabc', 'Bearer a b'),
          fc.string().map((rest) => `Bearer ${rest}`),
        ),
        (header) => {
          let token: string | undefined;
          try {
            token = bearerToken(header);
          } catch (error) {
            expect(error).toBeInstanceOf(Unauthenticated);
            expect((error as Unauthenticated).extra.headers?.['WWW-Authenticate']).toBe(
              'Bearer error="invalid_request"',
            );
            return;
          }
          expect(token).toMatch(B64TOKEN);
          expect(header.endsWith(token)).toBe(true);
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
    for (const bad of ['Basic x', 'Bearer', 'Bearer a b', 'Bearer a\n', 'Bearer\ta']) {
      expect(() => bearerToken(bad), bad).toThrow(Unauthenticated);
    }
  });
});

describe('authentication middleware', () => {
  it('gives the handler the verified principal', async () => {
    const { call, seen } = route('user');
    const token = await tokenFor('user');
    expect((await call(bearer(token))).statusCode).toBe(200);
    expect(seen).toEqual([await verifyAccessToken(token)]);
  });

  it('answers a missing token with 401 and a bare Bearer challenge, and does not count it', async () => {
    const { call } = route('user', { refused: 1 });
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      const result = await call({}, ip);
      expect(result.statusCode).toBe(401);
      expect(result.headers?.['WWW-Authenticate']).toBe('Bearer');
    }
    expect((await call(bearer(await tokenFor()), ip)).statusCode).toBe(200);
  });

  it('marks each refused credential (malformed, invalid, expired, revoked) for the per-IP limit', async () => {
    const revoked = await tokenFor();
    expect(await revokeAccessToken(await verifyAccessToken(revoked))).toBe(true);
    const good = await tokenFor();
    const [header, payload] = good.split('.');
    const refusals: [string, Record<string, string>, string][] = [
      ['malformed', { authorization: 'Token abc' }, 'Bearer error="invalid_request"'],
      ['not a JWT', bearer('abc.def'), 'Bearer error="invalid_token"'],
      [
        'bad signature',
        bearer(`${header}.${payload}.${'A'.repeat(86)}`),
        'Bearer error="invalid_token"',
      ],
      ['expired', bearer(await expiredToken()), 'Bearer error="invalid_token"'],
      ['revoked', bearer(revoked), 'Bearer error="invalid_token"'],
    ];
    for (const [name, headers, challenge] of refusals) {
      // A budget of 2 refusals per IP: two 401s, then the IP is refused.
      const { call } = route('user', { refused: 2 });
      const ip = freshIp();
      const first = await call(headers, ip);
      expect(first.statusCode, name).toBe(401);
      expect(first.headers?.['WWW-Authenticate'], name).toBe(challenge);
      expect((await call(headers, ip)).statusCode, name).toBe(401);
      expect((await call(headers, ip)).statusCode, name).toBe(429);
      expect((await call(bearer(good), ip)).statusCode, name).toBe(429);
      expect((await call(bearer(good))).statusCode, name).toBe(200); // another IP
    }
  });

  it('asks the deny list on every request: a cached token is refused once revoked', async () => {
    const cache = new TokenCache();
    const { call } = route('user', { cache });
    const token = await tokenFor();
    expect((await call(bearer(token))).statusCode).toBe(200);
    expect(cache.count).toBe(1);
    expect(await revokeAccessToken(await verifyAccessToken(token))).toBe(true);
    const after = await call(bearer(token));
    expect(after.statusCode).toBe(401);
    expect(problemOf(after).detail).toBe('The access token has been revoked.');
  });

  it('lets admins through admin routes and refuses users with 403', async () => {
    const { call } = route('admin');
    expect((await call(bearer(await tokenFor('admin')))).statusCode).toBe(200);
    const user = await call(bearer(await tokenFor('user')));
    expect(user.statusCode).toBe(403);
  });

  it('decides 403 only after the deny list and the per-IP limit: their verdicts come first', async () => {
    for (const method of ['GET', 'POST']) {
      // A revoked user token on an admin route is a 401 (revoked), not a 403.
      const revoked = await tokenFor('user');
      await revokeAccessToken(await verifyAccessToken(revoked));
      const { call } = route('admin', { method, requests: 1 });
      const answer = await call(bearer(revoked));
      expect(answer.statusCode, method).toBe(401);
      expect(problemOf(answer).detail, method).toBe('The access token has been revoked.');
      // An IP over its request budget gets 429 even where the token would be a 403.
      const ip = freshIp();
      expect((await call(bearer(await tokenFor('admin')), ip)).statusCode, method).toBe(200);
      expect((await call(bearer(await tokenFor('user')), ip)).statusCode, method).toBe(429);
    }
  });

  it('answers any Authorization header with 200 or 401 (403 on admin routes), never another status', async () => {
    const user = route('user');
    const admin = route('admin');
    const tokens = await Promise.all([tokenFor('user'), tokenFor('admin'), expiredToken()]);
    const header = fc.oneof(
      fc.string(),
      fc.stringMatching(B64TOKEN).map((token) => `Bearer ${token}`),
      fc.constantFrom(...tokens).map((token) => `Bearer ${token}`),
      fc
        .tuple(fc.constantFrom(...tokens), fc.nat(), fc.constantFrom('A', '_', '-', '.'))
        .map(([token, at, c]) => {
          const i = at % token.length;
          return `Bearer ${token.slice(0, i)}${c}${token.slice(i + 1)}`;
        }),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const [asUser, asAdmin] = await Promise.all([
          user.call({ authorization }),
          admin.call({ authorization }),
        ]);
        expect([200, 401]).toContain(asUser.statusCode);
        expect([200, 401, 403]).toContain(asAdmin.statusCode);
        if (asUser.statusCode === 401) expect(asAdmin.statusCode).toBe(401);
        if (asUser.statusCode === 401)
          expect(asUser.headers?.['WWW-Authenticate']).toMatch(/^Bearer/);
      }),
      { numRuns: fuzzRuns(50) },
    );
  });
});
