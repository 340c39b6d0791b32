import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApiKeyScope } from '../../../shared/api-keys/schemas.js';
import { generateKey } from '../../../shared/api-keys/secrets.js';
import { createApiKey, revokeApiKey } from '../../../shared/api-keys/service.js';
import {
  issueAccessToken,
  type Principal,
  type Role,
  verifyAccessToken,
} from '../../../shared/auth/tokens.js';
import { getSql } from '../../../shared/db/client.js';
import { apiKeyAuthentication, presentedKey } from '../../../shared/http/middleware/api-key.js';
import { authentication } from '../../../shared/http/middleware/authentication.js';
import { redisRoundTrip } from '../../../shared/http/middleware/redis-round-trip.js';
import type { HttpResult } from '../../../shared/http/middleware/types.js';
import { PROBLEM_CONTENT_TYPE } from '../../../shared/http/problem.js';
import { register, setRole } from '../../../shared/users/service.js';
import { uniqueEmail } from '../../helpers/users.js';
import { freshIp, fuzzRuns, httpEvent, problemOf, stack, stackFront } from './harness.js';

// Refused credentials are counted by the per-IP limit in the real Redis of the test setup.
process.env.RATE_LIMITS = 'on';

interface Owner {
  id: string;
  email: string;
  /** A real access token of the account. */
  token: string;
  /** The account as its token authenticates it (what `createApiKey` is called with). */
  principal: Principal;
}

/** A new account in the test database (a user, or made admin), with an access token. */
async function newOwner(role: Role = 'user'): Promise<Owner> {
  const email = uniqueEmail(`api-key-${role}`);
  const user = await register({ email, password: 'correct horse battery' });
  if (role !== 'user') await setRole(email, role);
  const { token } = await issueAccessToken({ id: user.id, role });
  return { id: user.id, email, token, principal: await verifyAccessToken(token) };
}

/** A new key of `owner` with `scopes`, made by the service: its id and text. */
async function newKey(owner: Owner, scopes: ApiKeyScope[], expiresAt?: string) {
  const created = await createApiKey(owner.principal, {
    name: 'test',
    scopes,
    ...(expiresAt ? { expires_at: expiresAt } : {}),
  });
  return { id: created.id, key: created.key };
}

/** The principal a valid key without expiry gives (see `Principal.apiKey`). */
const keyPrincipal = (owner: Owner, id: string, role: Role, scopes: string[]): Principal => ({
  userId: owner.id,
  role,
  tokenId: `api-key:${id}`,
  expiresAt: 0,
  apiKey: { id, scopes },
});

/**
 * The stack of a route that accepts API keys as `createHandler` builds it (request context,
 * problem details, the per-IP limit with small budgets, key or token authentication with the
 * real token middleware, the Redis round trip), with a handler that reports the principal it
 * was given. Each call sends its own request id, returned with the answer.
 */
function route(
  requirement: 'user' | 'admin',
  scopes: readonly ApiKeyScope[],
  options: { refused?: number; requests?: number; method?: string } = {},
) {
  const method = options.method ?? 'GET';
  const seen: (Principal | undefined)[] = [];
  const call = stack(
    [
      ...stackFront(`${method} /t`, options),
      apiKeyAuthentication({ requirement, scopes, tokens: authentication({ requirement }) }),
      redisRoundTrip({ concurrent: method === 'GET' }),
    ],
    async (_event, context) => {
      seen.push(context.requestState.principal);
      return { statusCode: 200, body: 'ok' };
    },
  );
  return {
    seen,
    call: async (headers: Record<string, string>, sourceIp = freshIp()) => {
      const requestId = `req-${randomUUID()}`;
      const result = await call(
        httpEvent({ method, headers: { ...headers, 'x-request-id': requestId }, sourceIp }),
      );
      return { result, requestId };
    },
  };
}

const apiKey = (key: string) => ({ 'x-api-key': key });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A problem+json answer of `status` for the request `requestId`. */
function expectProblem(answer: { result: HttpResult; requestId: string }, status: number) {
  const { result, requestId } = answer;
  expect(result.statusCode).toBe(status);
  expect(result.headers?.['Content-Type']).toBe(PROBLEM_CONTENT_TYPE);
  expect(result.headers?.['X-Request-ID']).toBe(requestId);
  expect(problemOf(result)).toMatchObject({ status, request_id: requestId, instance: '/t' });
}

/** The problem body without what differs per request. */
function sameForAll(result: HttpResult) {
  const { request_id: _id, ...rest } = problemOf(result);
  return rest;
}

describe('presentedKey', () => {
  it('takes X-API-Key over Authorization, trimmed', () => {
    expect(
      presentedKey({ 'x-api-key': '  sk_local_abc\t', authorization: 'Bearer sk_other' }),
    ).toBe('sk_local_abc');
    expect(presentedKey({ 'x-api-key': 'sk_local_abc', authorization: 'Bearer eyJ.a.b' })).toBe(
      'sk_local_abc',
    );
  });

  it('takes an Authorization: Bearer sk_… key, any scheme casing, one or more spaces', () => {
    for (const header of ['Bearer sk_local_abc', 'bearer   sk_local_abc', 'BEARER sk_local_abc']) {
      expect(presentedKey({ authorization: header }), header).toBe('sk_local_abc');
    }
  });

  it('gives undefined for a bearer token that is no key (a JWT), and for no headers', async () => {
    const { token } = await issueAccessToken({ id: randomUUID(), role: 'user' });
    expect(presentedKey(bearer(token))).toBeUndefined();
    expect(presentedKey({ authorization: 'Basic sk_local_abc' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });

  it('is the trimmed X-API-Key when sent, else the key of a Bearer sk_… header, else undefined', () => {
    const padding = fc.stringMatching(/^[ \t]{0,3}$/);
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR');
    const spaces = fc.integer({ min: 1, max: 4 }).map((n) => ' '.repeat(n));
    const key = fc.stringMatching(/^sk_[0-9A-Za-z_-]{0,60}$/);
    const b64url = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
    const jwt = fc.tuple(b64url, b64url, b64url).map(([h, p, s]) => `eyJ${h}.${p}.${s}`);
    const keyBearer = fc.tuple(scheme, spaces, key).map(([s, gap, k]) => ({
      header: `${s}${gap}${k}`,
      key: k,
    }));
    // Authorization headers that carry no key: a JWT, another scheme, a malformed bearer.
    const noKeyAuthorization = fc.oneof(
      fc.tuple(scheme, spaces, jwt).map(([s, gap, t]) => `${s}${gap}${t}`),
      key.map((k) => `Basic ${k}`),
      key.map((k) => `Bearer${k}`),
      key.map((k) => ` Bearer ${k}`),
      key.map((k) => `Bearer ${k} extra`),
      fc.constantFrom('', 'Bearer', 'Bearer ', 'Token abc'),
    );
    // Headers that never carry a key, in every case.
    const others = fc.dictionary(
      fc.constantFrom('cookie', 'x-request-id', 'content-type', 'api-key', 'x-forwarded-for'),
      fc.oneof(fc.string(), key),
    );
    // An X-API-Key value without surrounding whitespace (a key, or any text).
    const keyValue = fc.oneof(
      key,
      fc.string().map((text) => text.trim()),
    );
    const anyAuthorization = fc.option(
      fc.oneof(
        keyBearer.map((b) => b.header),
        noKeyAuthorization,
      ),
      { nil: undefined },
    );
    const cases: fc.Arbitrary<{ headers: Record<string, string>; expected?: string }> = fc.oneof(
      // X-API-Key, padded, whatever Authorization says: its value without the padding.
      fc
        .tuple(keyValue, padding, padding, anyAuthorization, others)
        .map(([value, before, after, authorization, rest]) => ({
          headers: {
            ...rest,
            'x-api-key': `${before}${value}${after}`,
            ...(authorization === undefined ? {} : { authorization }),
          },
          expected: value,
        })),
      // No X-API-Key, a Bearer sk_… header: that key.
      fc.tuple(keyBearer, others).map(([b, rest]) => ({
        headers: { ...rest, authorization: b.header },
        expected: b.key,
      })),
      // No X-API-Key, any other Authorization: no key.
      fc.tuple(noKeyAuthorization, others).map(([authorization, rest]) => ({
        headers: { ...rest, authorization },
      })),
      // Neither header: no key.
      others.map((headers) => ({ headers })),
    );
    fc.assert(
      fc.property(cases, ({ headers, expected }) => {
        expect(presentedKey(headers)).toBe(expected);
      }),
      { numRuns: fuzzRuns(100) },
    );
  });
});

describe('apiKeyAuthentication middleware', () => {
  it('authenticates a request without a key by its access token', async () => {
    const { call, seen } = route('user', ['notes:read']);
    const owner = await newOwner();
    expect((await call(bearer(owner.token))).result.statusCode).toBe(200);
    expect(seen).toEqual([await verifyAccessToken(owner.token)]);
    expect(seen[0]?.apiKey).toBeUndefined();
    // Neither a key nor a token: the token middleware's 401 with a bare challenge.
    const missing = await call({});
    expectProblem(missing, 401);
    expect(missing.result.headers?.['WWW-Authenticate']).toBe('Bearer');
    expect(seen).toHaveLength(1);
  });

  it('gives the handler the key owner’s principal, with the key’s scopes, for a key with one of the route’s scopes', async () => {
    const { call, seen } = route('user', ['notes:write', 'orders:read']);
    const owner = await newOwner();
    const { id, key } = await newKey(owner, ['notes:read', 'orders:read']);
    expect((await call(apiKey(key))).result.statusCode).toBe(200);
    expect((await call(bearer(key))).result.statusCode).toBe(200);
    const expected = keyPrincipal(owner, id, 'user', ['notes:read', 'orders:read']);
    expect(seen).toEqual([expected, expected]);
  });

  it('lets the key win over an access token sent with it', async () => {
    const { call, seen } = route('user', ['notes:read']);
    const owner = await newOwner();
    const { id, key } = await newKey(owner, ['notes:read']);
    expect((await call({ ...apiKey(key), ...bearer(owner.token) })).result.statusCode).toBe(200);
    expect(seen).toEqual([keyPrincipal(owner, id, 'user', ['notes:read'])]);
    // An unknown key with a valid token is refused: the token is not tried.
    const refused = await call({ ...apiKey(generateKey('local').key), ...bearer(owner.token) });
    expectProblem(refused, 401);
    expect(seen).toHaveLength(1);
  });

  it('answers a valid key without the route’s scope with 403, and does not count it as a refused credential', async () => {
    const { call, seen } = route('user', ['notes:write', 'orders:write'], { refused: 1 });
    const owner = await newOwner();
    const { key } = await newKey(owner, ['notes:read', 'orders:read']);
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      const answer = await call(apiKey(key), ip);
      expectProblem(answer, 403);
      expect(problemOf(answer.result).detail).toContain('notes:write');
    }
    expect(seen).toEqual([]);
    // Three 403s spent nothing of a budget of one refused credential.
    expect((await call(bearer(owner.token), ip)).result.statusCode).toBe(200);
  });

  it('answers 403 on an admin route for a valid key whose owner is a plain user, now', async () => {
    const { call, seen } = route('admin', ['notes:read', 'inventory:write']);
    const [user, admin, demoted] = await Promise.all([
      newOwner(),
      newOwner('admin'),
      newOwner('admin'),
    ]);
    const userKey = await newKey(user, ['notes:read']);
    expectProblem(await call(apiKey(userKey.key)), 403);
    expect(seen).toEqual([]);

    const adminKey = await newKey(admin, ['inventory:write']);
    expect((await call(apiKey(adminKey.key))).result.statusCode).toBe(200);
    expect(seen).toEqual([keyPrincipal(admin, adminKey.id, 'admin', ['inventory:write'])]);

    // A key made while its owner was admin acts with the owner's role of the moment.
    const demotedKey = await newKey(demoted, ['inventory:write']);
    await setRole(demoted.email, 'user');
    expectProblem(await call(apiKey(demotedKey.key)), 403);
    expect(seen).toHaveLength(1);
  });

  it('decides 403 only after the per-IP limit: an IP over its request budget gets 429', async () => {
    const owner = await newOwner();
    const [good, scopeless] = await Promise.all([
      newKey(owner, ['notes:read']),
      newKey(owner, ['orders:read']),
    ]);
    for (const method of ['GET', 'POST']) {
      const { call } = route('user', ['notes:read'], { method, requests: 1 });
      const ip = freshIp();
      expect((await call(apiKey(good.key), ip)).result.statusCode, method).toBe(200);
      expectProblem(await call(apiKey(scopeless.key), ip), 429);
      expectProblem(await call(apiKey(scopeless.key)), 403); // another IP
    }
  });

  it('answers an unknown key, a wrong secret, a revoked and an expired key with one 401 body, each a refused credential for the per-IP limit', async () => {
    const owner = await newOwner();
    const [good, revoked, expired] = await Promise.all([
      newKey(owner, ['notes:read']),
      newKey(owner, ['notes:read']),
      newKey(owner, ['notes:read'], new Date(Date.now() + 3_600_000).toISOString()),
    ]);
    await revokeApiKey(owner.principal, revoked.id);
    await getSql()`
      UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = ${expired.id}`;
    const last = good.key.slice(-1);
    const wrongSecret = `${good.key.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
    const refusals: [string, string][] = [
      ['unknown', generateKey('local').key],
      ['wrong secret', wrongSecret],
      ['revoked', revoked.key],
      ['expired', expired.key],
    ];
    const bodies: Record<string, unknown>[] = [];
    for (const [name, key] of refusals) {
      for (const headers of [apiKey(key), bearer(key)]) {
        // A budget of 2 refusals per IP: two 401s, then the IP is refused.
        const { call } = route('user', ['notes:read'], { refused: 2 });
        const ip = freshIp();
        const first = await call(headers, ip);
        expectProblem(first, 401);
        expect(first.result.headers?.['WWW-Authenticate'], name).toBe(
          'Bearer error="invalid_token"',
        );
        bodies.push(sameForAll(first.result));
        expect((await call(headers, ip)).result.statusCode, name).toBe(401);
        expectProblem(await call(headers, ip), 429);
        expect((await call(apiKey(good.key), ip)).result.statusCode, name).toBe(429);
        expect((await call(bearer(owner.token), ip)).result.statusCode, name).toBe(429);
        expect((await call(apiKey(good.key))).result.statusCode, name).toBe(200); // another IP
      }
    }
    for (const body of bodies) expect(body).toEqual(bodies[0]);
  });
});
