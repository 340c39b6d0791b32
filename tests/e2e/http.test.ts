import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { getSql } from '../../shared/db/client.js';
import { routeList } from '../../shared/routes/index.js';
import { useApi } from '../helpers/api.js';
import { createUser } from '../helpers/users.js';

const api = useApi();
const MiB = 1024 * 1024;

async function countNotes(ownerId: string): Promise<number> {
  const [row] = await getSql()`SELECT count(*)::int AS n FROM notes WHERE owner_id = ${ownerId}`;
  return row?.n ?? 0;
}

describe('bad input → a clear 4xx problem, nothing stored', () => {
  it('malformed JSON → 400', async () => {
    const user = await createUser(api);
    const response = await api.post('/api/v1/notes', {
      token: user.token,
      rawBody: '{"title": "x",',
    });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/JSON/);
    expect(await countNotes(user.id)).toBe(0);
  });

  it('wrong content type → 415', async () => {
    const user = await createUser(api);
    for (const contentType of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
    ]) {
      const response = await api.post('/api/v1/notes', {
        token: user.token,
        rawBody: 'title=x',
        contentType,
      });
      expect(response.status, contentType).toBe(415);
    }
    expect(await countNotes(user.id)).toBe(0);
  });

  it('a body over 1 MiB → 413; exactly 1 MiB is read (and then validated)', async () => {
    const user = await createUser(api);
    const base = JSON.stringify({ title: 'big', content: '' });
    const exact = `${base}${' '.repeat(MiB - base.length)}`;
    expect(Buffer.byteLength(exact)).toBe(MiB);
    const atLimit = await api.post('/api/v1/notes', { token: user.token, rawBody: exact });
    expect(atLimit.status).toBe(201);
    const over = await api.post('/api/v1/notes', { token: user.token, rawBody: `${exact} ` });
    expect(over.status).toBe(413);
    expect(await countNotes(user.id)).toBe(1);
  });

  it('unknown fields → 422 naming each', async () => {
    const user = await createUser(api);
    const response = await api.post('/api/v1/notes', {
      token: user.token,
      body: { title: 'x', owner_id: user.id, id: crypto.randomUUID() },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'id',
      'owner_id',
    ]);
    expect(await countNotes(user.id)).toBe(0);
  });

  it('out-of-range limit → 422 query.limit; bad cursor → 400; bad uuid → 422 path.id', async () => {
    const user = await createUser(api);
    for (const limit of ['0', '101', 'abc', '1.5', '']) {
      const response = await api.get('/api/v1/notes', { token: user.token, query: { limit } });
      expect(response.status, limit).toBe(422);
      expect(response.body.errors[0].field).toBe('query.limit');
    }
    expect(
      (await api.get('/api/v1/notes', { token: user.token, query: { cursor: '%%%' } })).status,
    ).toBe(400);
    const badId = await api.get('/api/v1/notes/not-a-uuid', { token: user.token });
    expect(badId.status).toBe(422);
    expect(badId.body.errors[0]).toMatchObject({ field: 'path.id' });
  });

  it('unknown path → 404, known path with the wrong method → 405 with Allow', async () => {
    const missing = await api.get('/api/v1/nothing-here');
    expect(missing.status).toBe(404);
    const wrong = await api.request('PUT', '/api/v1/auth/login');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const notes = await api.request('PUT', '/api/v1/notes');
    expect(notes.headers.get('allow')).toBe('POST, GET');
  });
});

describe('conventions on every response', () => {
  it('echoes a valid X-Request-ID and replaces an invalid one', async () => {
    const kept = await api.get('/health/live', { headers: { 'x-request-id': 'abc-123._X' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123._X');
    for (const bad of ['a'.repeat(129), 'has space', 'a/b']) {
      const replaced = await api.get('/health/live', { headers: { 'x-request-id': bad } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const problem = await api.get('/nowhere', { headers: { 'x-request-id': 'trace-42' } });
    expect(problem.body.request_id).toBe('trace-42');
  });

  it('sends security headers and no-store on API JSON', async () => {
    const user = await createUser(api);
    const response = await api.get('/api/v1/users/me', { token: user.token });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('operations and docs', () => {
  it('/health reports each dependency and is never cached; /health/live touches nothing', async () => {
    const health = await api.get('/health');
    expect(health.body).toEqual({ status: 'ok', db: 'ok', redis: 'ok' });
    expect(health.headers.get('cache-control')).toBe('no-store');
    expect((await api.get('/health/live')).body).toEqual({ status: 'ok' });
  });

  it('/openapi.json is OpenAPI 3.1 with every visible route and the OAuth2 password flow', async () => {
    const doc = (await api.get('/openapi.json')).body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    for (const route of routeList.filter((r) => !r.hidden)) {
      expect(
        doc.paths[route.path]?.[route.method.toLowerCase()],
        `${route.method} ${route.path}`,
      ).toBeDefined();
    }
    expect(doc.components.securitySchemes.oauth2.flows.password.tokenUrl).toBe(
      '/api/v1/auth/login',
    );
    expect(
      doc.paths['/api/v1/notes'].post.responses['422'].content['application/problem+json'],
    ).toBeDefined();
    expect(doc.info.version).toBe(packageJson.version);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it("the OAuth2 flow's URLs take its forms: password grant at tokenUrl, refresh grant at refreshUrl", async () => {
    const { password } = (await api.get('/openapi.json')).body.components.securitySchemes.oauth2
      .flows;
    const user = await createUser(api);
    const form = 'application/x-www-form-urlencoded';
    const login = await api.post(password.tokenUrl, {
      rawBody: new URLSearchParams({
        grant_type: 'password',
        username: user.email,
        password: user.password,
      }).toString(),
      contentType: form,
    });
    expect(login.status).toBe(200);
    const refreshed = await api.post(password.refreshUrl, {
      rawBody: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: login.body.refresh_token,
      }).toString(),
      contentType: form,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(login.body.refresh_token);
    const me = await api.get('/api/v1/users/me', { token: refreshed.body.access_token });
    expect(me.body.id).toBe(user.id);
    const wrongGrant = await api.post(password.refreshUrl, {
      rawBody: `grant_type=password&refresh_token=${refreshed.body.refresh_token}`,
      contentType: form,
    });
    expect(wrongGrant.status).toBe(422);
  });

  it('/docs and /redoc are HTML whose scripts come from this API (no CDN) and are allowed by their CSP', async () => {
    for (const page of ['/docs', '/redoc']) {
      const response = await api.get(page);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      const urls = [...response.text.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map(
        (m) => m[1] as string,
      );
      const assets = urls.filter((url) => !url.startsWith('data:'));
      expect(assets.length).toBeGreaterThan(0);
      for (const src of assets) {
        expect(src.startsWith('/docs/assets/'), src).toBe(true);
        const asset = await api.get(src);
        expect(asset.status, src).toBe(200);
        expect(asset.text.length).toBeGreaterThan(10_000);
      }
      // The only inline URL is the icon (next test), which img-src allows.
      expect(urls.filter((url) => url.startsWith('data:')).length, page).toBe(1);
    }
    expect((await api.get('/docs/assets/..%2Fpackage.json')).status).toBe(404);
    expect((await api.get('/docs/assets/nope.js')).status).toBe(404);
  });

  it('/docs and /redoc link an SVG icon their CSP allows, so browsers do not ask for /favicon.ico', async () => {
    for (const page of ['/docs', '/redoc']) {
      const response = await api.get(page);
      const head = response.text.slice(0, response.text.indexOf('</head>'));
      const href = head.match(/<link rel="icon" type="image\/svg\+xml" href="([^"]+)">/)?.[1];
      expect(href, page).toBeDefined();
      const [, mediaType, data] = href?.match(/^data:([^;,]+);base64,(.+)$/) ?? [];
      expect(mediaType, page).toBe('image/svg+xml');
      const svg = Buffer.from(data ?? '', 'base64').toString('utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*viewBox="[^"]+">/);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).not.toMatch(/<script|\bon\w+=|href=/i); // a picture, nothing active
      // Icons load under img-src (CSP Level 3; Firefox enforces it for favicons).
      const imgSrc = (response.headers.get('content-security-policy') ?? '')
        .split(';')
        .map((directive) => directive.trim().split(/\s+/))
        .find(([name]) => name === 'img-src');
      expect(imgSrc, page).toContain('data:');
    }
  });

  it('every non-public route rejects a request without a token (401)', async () => {
    for (const route of routeList.filter((r) => r.auth !== 'public')) {
      const path = route.path.replace(/\{\w+\}/g, crypto.randomUUID());
      const response = await api.request(
        route.method,
        path,
        route.method === 'GET' ? {} : { body: {} },
      );
      expect(response.status, `${route.method} ${route.path}`).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });
});
