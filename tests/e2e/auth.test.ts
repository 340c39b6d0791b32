import {
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { useApi } from '../helpers/api.js';
import { createUser, uniqueEmail } from '../helpers/users.js';

const api = useApi();
const password = 'correct horse battery';
const issuer = process.env.JWT_ISSUER as string;
const audience = process.env.JWT_AUDIENCE as string;
const signingKey = JSON.parse(process.env.JWT_SIGNING_KEYS as string).keys[0] as JWK & {
  kid: string;
};

/** Signs a token with our real private key, with any claims and header a test wants. */
async function forge(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  options: { exp?: number; iat?: number; key?: Parameters<SignJWT['sign']>[0]; alg?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ role: 'user', ...claims })
    .setProtectedHeader({
      alg: options.alg ?? 'ES256',
      kid: signingKey.kid,
      typ: 'at+jwt',
      ...header,
    })
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 600);
  if (!('iss' in claims)) jwt.setIssuer(issuer);
  if (!('aud' in claims)) jwt.setAudience(audience);
  if (!('jti' in claims)) jwt.setJti(crypto.randomUUID());
  return jwt.sign(options.key ?? (await importJWK(signingKey, 'ES256')));
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function expect401(token: string, why: string) {
  const response = await api.get('/api/v1/users/me', { token });
  expect(response.status, why).toBe(401);
  expect(response.headers.get('www-authenticate'), why).toMatch(/^Bearer/);
}

describe('register', () => {
  it('creates a user (201, lower-cased e-mail, Location, no password hash)', async () => {
    const email = uniqueEmail('Reg').replace('reg', 'ReG');
    const response = await api.post('/api/v1/auth/register', {
      body: { email, password, name: ' Ada ' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/api/v1/users/me');
    expect(response.body).toMatchObject({ email: email.toLowerCase(), name: 'Ada', role: 'user' });
    expect(response.text).not.toMatch(/argon|password/i);
  });

  it('answers 409 for a taken e-mail in any case', async () => {
    const email = uniqueEmail();
    expect((await api.post('/api/v1/auth/register', { body: { email, password } })).status).toBe(
      201,
    );
    const again = await api.post('/api/v1/auth/register', {
      body: { email: email.toUpperCase(), password },
    });
    expect(again.status).toBe(409);
  });

  it('20 concurrent sign-ups with one e-mail: exactly one 201, nineteen 409', async () => {
    const email = uniqueEmail('race');
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.post('/api/v1/auth/register', { body: { email, password } }),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(19);
    const [{ n } = { n: 0 }] =
      await getSql()`SELECT count(*)::int AS n FROM users WHERE email = ${email}`;
    expect(n).toBe(1);
  });

  it('validates at the boundaries (422 with the field), and never lets a client set its role', async () => {
    const sneaky = uniqueEmail('sneaky');
    const cases: [Record<string, unknown>, string][] = [
      [{ email: `${'a'.repeat(250)}@x.io`, password }, 'email'],
      [{ email: 'not-an-email', password }, 'email'],
      [{ email: uniqueEmail(), password: 'a'.repeat(7) }, 'password'],
      [{ email: uniqueEmail(), password: 'a'.repeat(129) }, 'password'],
      [{ email: uniqueEmail(), password, name: '' }, 'name'],
      [{ email: uniqueEmail(), password, name: 'n'.repeat(101) }, 'name'],
      [{ email: sneaky, password, role: 'admin' }, 'role'],
      [{ password }, 'email'],
    ];
    for (const [body, field] of cases) {
      const response = await api.post('/api/v1/auth/register', { body });
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    for (const ok of ['a'.repeat(8), 'a'.repeat(128)]) {
      expect(
        (await api.post('/api/v1/auth/register', { body: { email: uniqueEmail(), password: ok } }))
          .status,
      ).toBe(201);
    }
    const [{ n } = { n: 1 }] =
      await getSql()`SELECT count(*)::int AS n FROM users WHERE email = ${sneaky}`;
    expect(n).toBe(0);
  });
});

describe('login', () => {
  it('accepts JSON and the OAuth2 password form', async () => {
    const user = await createUser(api);
    const json = await api.post('/api/v1/auth/login', {
      body: { email: user.email.toUpperCase(), password },
    });
    expect(json.body).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    const form = await api.post('/api/v1/auth/login', {
      rawBody: new URLSearchParams({
        username: user.email,
        password,
        grant_type: 'password',
        scope: '',
      }).toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(200);
    expect((await api.get('/api/v1/users/me', { token: form.body.access_token })).body.email).toBe(
      user.email,
    );
  });

  it('answers an unknown e-mail and a wrong password with the same 401', async () => {
    const user = await createUser(api);
    const wrong = await api.post('/api/v1/auth/login', {
      body: { email: user.email, password: 'wrong password' },
    });
    const unknown = await api.post('/api/v1/auth/login', {
      body: { email: uniqueEmail('ghost'), password },
    });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const { request_id: _a, instance: _b, ...a } = wrong.body;
    const { request_id: _c, instance: _d, ...b } = unknown.body;
    expect(a).toEqual(b);
  });
});

describe('access tokens', () => {
  it('are ES256 JWTs with kid and typ at+jwt, verifiable with the published JWKS (public keys only)', async () => {
    const user = await createUser(api);
    const jwks = await api.get('/.well-known/jwks.json');
    expect(jwks.text).not.toContain('"d"');
    const header = decodeProtectedHeader(user.token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(header.kid);
    const { payload } = await jwtVerify(user.token, createLocalJWKSet(jwks.body), {
      issuer,
      audience,
    });
    expect(payload).toMatchObject({ sub: user.id, role: 'user' });
    expect(payload.jti).toBeTruthy();
    expect((payload.exp as number) - (payload.iat as number)).toBe(900);
  });

  it('a token signed by our key with the right claims is accepted (the control case)', async () => {
    const user = await createUser(api);
    expect(
      (await api.get('/api/v1/users/me', { token: await forge({ sub: user.id }) })).status,
    ).toBe(200);
  });

  it('rejects every kind of bad token with 401 and WWW-Authenticate: Bearer', async () => {
    const user = await createUser(api);
    const now = Math.floor(Date.now() / 1000);
    const valid = await forge({ sub: user.id });
    const [h, p, s] = valid.split('.') as [string, string, string];
    const tamperedPayload = b64({
      ...JSON.parse(Buffer.from(p, 'base64url').toString()),
      role: 'admin',
    });
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    const hsSecret = new TextEncoder().encode(signingKey.x as string);
    const cases: [string, string][] = [
      [`${h}.${tamperedPayload}.${s}`, 'tampered payload'],
      [`${h}.${p}.${s.slice(0, -4)}AAAA`, 'tampered signature'],
      [
        await forge({ sub: user.id }, {}, { exp: now - 31, iat: now - 1000 }),
        'expired beyond the 30 s skew',
      ],
      [`${b64({ alg: 'none', typ: 'at+jwt', kid: signingKey.kid })}.${p}.`, 'alg none'],
      [
        await forge({ sub: user.id }, { alg: 'HS256' }, { key: hsSecret, alg: 'HS256' }),
        'HS256 with public material as secret',
      ],
      [await forge({ sub: user.id, aud: 'someone-else' }), 'wrong audience'],
      [await forge({ sub: user.id, iss: 'https://evil.example' }), 'wrong issuer'],
      [await forge({ sub: user.id }, { typ: 'JWT' }), 'wrong typ'],
      [await forge({ sub: user.id, jti: undefined }), 'missing jti'],
      [await forge({}), 'missing sub'],
      [await forge({ sub: 'not-a-uuid' }), 'sub not a user id'],
      [await forge({ sub: user.id, role: 'root' }), 'unknown role'],
      [await forge({ sub: user.id }, { kid: 'unknown-kid' }), 'unknown kid'],
      [await forge({ sub: user.id }, {}, { key: attacker.privateKey }), 'other key, same kid'],
      [
        await forge(
          { sub: user.id },
          { jwk: attackerJwk, kid: undefined },
          { key: attacker.privateKey },
        ),
        'embedded jwk header',
      ],
      [
        await forge(
          { sub: user.id },
          { jku: 'https://evil.example/jwks.json' },
          { key: attacker.privateKey },
        ),
        'jku header',
      ],
      ['not.a.jwt', 'garbage'],
    ];
    for (const [token, why] of cases) await expect401(token, why);
  });

  it('allows 30 s of clock skew on exp', async () => {
    const user = await createUser(api);
    const now = Math.floor(Date.now() / 1000);
    const justExpired = await forge({ sub: user.id }, {}, { exp: now - 10, iat: now - 900 });
    expect((await api.get('/api/v1/users/me', { token: justExpired })).status).toBe(200);
  });

  it('needs the Bearer scheme', async () => {
    const user = await createUser(api);
    for (const authorization of [
      `Basic ${user.token}`,
      user.token,
      'Bearer',
      `Bearer ${user.token} extra`,
    ]) {
      const response = await api.get('/api/v1/users/me', { headers: { authorization } });
      expect(response.status, authorization.slice(0, 12)).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });
});
