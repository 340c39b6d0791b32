import { hash } from '@node-rs/argon2';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { setRole } from '../../shared/users/service.js';
import { useApi } from '../helpers/api.js';
import { createUser, uniqueEmail } from '../helpers/users.js';

const api = useApi();
const password = 'correct horse battery';

async function login(email: string) {
  const response = await api.post('/api/v1/auth/login', { body: { email, password } });
  expect(response.status).toBe(200);
  return response.body as { access_token: string; refresh_token: string; expires_in: number };
}
const refresh = (token: string) =>
  api.post('/api/v1/auth/refresh', { body: { refresh_token: token } });

describe('sessions: refresh rotation, reuse detection, logout', () => {
  it('login returns an opaque refresh token of ≥ 256 bits, stored only as a hash', async () => {
    const user = await createUser(api);
    const tokens = await login(user.email);
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(Buffer.from(tokens.refresh_token, 'base64url').length).toBeGreaterThanOrEqual(32);
    const rows = await getSql()`SELECT token_hash FROM refresh_tokens WHERE user_id = ${user.id}`;
    // One family per login: createUser's and this one.
    expect(rows.length).toBe(2);
    for (const row of rows)
      expect(Buffer.from(row.token_hash).toString('base64url')).not.toBe(tokens.refresh_token);
    const text = JSON.stringify(
      await getSql()`SELECT * FROM refresh_tokens WHERE user_id = ${user.id}`,
    );
    expect(text).not.toContain(tokens.refresh_token);
  });

  it('refresh rotates: a new pair, and the old refresh token is spent', async () => {
    const user = await createUser(api);
    const first = await login(user.email);
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await api.get('/api/v1/users/me', { token: second.body.access_token })).status).toBe(
      200,
    );
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
  });

  it('reusing a used refresh token revokes its whole family (the thief and the victim are both out)', async () => {
    const user = await createUser(api);
    const stolen = await login(user.email);
    const legit = await refresh(stolen.refresh_token); // the victim rotates
    const replay = await refresh(stolen.refresh_token); // the attacker replays the old one
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await refresh(legit.body.refresh_token)).status).toBe(401); // family is dead
    const other = await login(user.email); // another login is another family
    expect((await refresh(other.refresh_token)).status).toBe(200);
  });

  it('two refreshes racing with the same token: exactly one succeeds', async () => {
    const user = await createUser(api);
    const { refresh_token } = await login(user.email);
    const results = await Promise.all([refresh(refresh_token), refresh(refresh_token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('unknown, malformed and expired refresh tokens are 401; bad bodies 422', async () => {
    expect((await refresh('x'.repeat(43))).status).toBe(401);
    const user = await createUser(api);
    const { refresh_token } = await login(user.email);
    await getSql()`UPDATE refresh_tokens SET family_expires_at = now() - interval '1 second' WHERE user_id = ${user.id}`;
    expect((await refresh(refresh_token)).status).toBe(401);
    expect((await api.post('/api/v1/auth/refresh', { body: {} })).status).toBe(422);
    expect(
      (await api.post('/api/v1/auth/refresh', { body: { refresh_token: 'a', extra: 1 } })).status,
    ).toBe(422);
  });

  it('logout: the same access token is 401 on the next call, and the refresh family is dead', async () => {
    const user = await createUser(api);
    const tokens = await login(user.email);
    const other = await login(user.email); // another device
    const out = await api.post('/api/v1/auth/logout', {
      token: tokens.access_token,
      body: { refresh_token: tokens.refresh_token },
    });
    expect(out.status).toBe(204);
    const after = await api.get('/api/v1/users/me', { token: tokens.access_token });
    expect(after.status).toBe(401);
    expect(after.body.detail).toMatch(/revoked/);
    expect((await refresh(tokens.refresh_token)).status).toBe(401);
    // The other device's session is untouched.
    expect((await api.get('/api/v1/users/me', { token: other.access_token })).status).toBe(200);
    expect((await refresh(other.refresh_token)).status).toBe(200);
  });

  it('logout without a body revokes the access token only; another user’s refresh token is left alone', async () => {
    const [a, b] = await Promise.all([createUser(api), createUser(api)]);
    const bTokens = await login(b.email);
    expect((await api.post('/api/v1/auth/logout', { token: a.token })).status).toBe(204);
    expect((await api.get('/api/v1/users/me', { token: a.token })).status).toBe(401);
    const aFresh = await login(a.email);
    await api.post('/api/v1/auth/logout', {
      token: aFresh.access_token,
      body: { refresh_token: bTokens.refresh_token },
    });
    expect((await refresh(bTokens.refresh_token)).status).toBe(200);
  });

  it('a refreshed access token carries the user’s current role', async () => {
    const user = await createUser(api);
    const tokens = await login(user.email);
    expect(decodeJwt(tokens.access_token).role).toBe('user');
    await setRole(user.email, 'admin');
    const refreshed = await refresh(tokens.refresh_token);
    expect(decodeJwt(refreshed.body.access_token).role).toBe('admin');
  });
});

describe('password re-hash', () => {
  it('login re-hashes a password stored with weaker argon2 parameters', async () => {
    const email = uniqueEmail('legacy');
    const weak = await hash(password, {
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
      algorithm: 2,
    });
    await getSql()`INSERT INTO users (email, password_hash) VALUES (${email}, ${weak})`;
    await login(email);
    const [row] = await getSql()`SELECT password_hash FROM users WHERE email = ${email}`;
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await login(email); // and the new hash verifies
  });
});
