/**
 * The local gateway behaves like API Gateway (HTTP API) where a client can tell: routing on
 * the raw path, quotas, CORS, HEAD, and one log context per concurrent invocation.
 * Requests that `fetch` would normalise (dot segments) or refuse (huge headers) go over a
 * raw TCP socket, so the bytes on the wire are exactly the ones written here.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { corsPolicy } from '../../infra/cors.js';
import { HTTP_API_QUOTAS } from '../../infra/local/gateway.js';
import { Problem } from '../../shared/http/schemas.js';
import { logger } from '../../shared/logger.js';
import { routeList } from '../../shared/routes/index.js';
import { useApi } from '../helpers/api.js';
import { createUser } from '../helpers/users.js';

const api = useApi();
/** An origin on the local stage's default allow-list (the dev stage's, `infra/stages.ts`). */
const ALLOWED_ORIGIN = 'http://localhost:3000';
const OTHER_ORIGIN = 'https://evil.example';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Every byte after the header section, exactly as sent (the server closes the socket). */
  body: Buffer;
}

/**
 * Sends one HTTP/1.1 request over a fresh socket (`Connection: close`) and reads everything
 * until the server closes it. Header names come back lower-cased.
 */
function rawRequest(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawResponse> {
  const { hostname, port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = all.subarray(0, split).toString('latin1').split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers: parsed,
        body: all.subarray(split + 4),
      });
    });
    const lines = [`${method} ${target} HTTP/1.1`, `Host: ${hostname}:${port}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    lines.push('Connection: close', '', '');
    socket.write(lines.join('\r\n'));
    if (body !== undefined) socket.write(body);
  });
}

/** Asserts an RFC 9457 problem whose `request_id` is the response's `X-Request-ID`. */
function expectProblem(response: RawResponse, status: number, requestId?: string) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toBe('application/problem+json');
  const problem = Problem.parse(JSON.parse(response.body.toString('utf8')));
  expect(problem.status).toBe(status);
  expect(problem.request_id).toBe(response.headers['x-request-id']);
  if (requestId) expect(problem.request_id).toBe(requestId);
  return problem;
}

describe('routing on the raw path', () => {
  it('never resolves dot segments, literal or percent-encoded, into another route', async () => {
    const user = await createUser(api);
    const auth = { Authorization: `Bearer ${user.token}` };
    expect((await rawRequest('GET', '/api/v1/users/me', auth)).status).toBe(200);
    for (const target of [
      '/docs/%2e%2e/api/v1/users/me',
      '/docs/%2E%2E/api/v1/users/me',
      '/docs/../api/v1/users/me',
      '/api/v1/users/./me',
      '/api/v1/users/%6De',
    ]) {
      const response = await rawRequest('GET', target, { ...auth, 'X-Request-ID': 'dots-1' });
      const problem = expectProblem(response, 404, 'dots-1');
      expect(problem.instance, target).toBe(target);
    }
  });

  it('keeps %2F inside one path parameter and decodes the parameter after matching', async () => {
    const user = await createUser(api);
    const auth = { Authorization: `Bearer ${user.token}` };
    // `{id}` matched `a%2Fb` as one segment: the route ran and validated the decoded `a/b`.
    const inSegment = await rawRequest('GET', '/api/v1/notes/a%2Fb', auth);
    expect(expectProblem(inSegment, 422).errors?.[0]).toMatchObject({ field: 'path.id' });
    // `restore%2F<id>` is one segment, so it is `/notes/{id}` (no POST there), not restore.
    const id = crypto.randomUUID();
    const notRestore = await rawRequest('POST', `/api/v1/notes/restore%2F${id}`, auth);
    expectProblem(notRestore, 405);
    expect(notRestore.headers.allow).toBe('GET, PUT, PATCH, DELETE');
    // The decoded `../package.json` reaches the asset function, which refuses it.
    expectProblem(await rawRequest('GET', '/docs/assets/..%2Fpackage.json'), 404);
  });

  it('accepts the absolute form of the request target and refuses other forms with a 400', async () => {
    const { host } = new URL(api.url);
    expect((await rawRequest('GET', `http://${host}/health/live`)).status).toBe(200);
    expectProblem(await rawRequest('OPTIONS', '*', { 'X-Request-ID': 'star-1' }), 400, 'star-1');
  });
});

describe('API Gateway quotas', () => {
  const quota = HTTP_API_QUOTAS.requestLineAndHeaderValuesBytes;
  /** Header values of `rawRequest` besides the padding: Host and `close`. */
  const fixedBytes = (target: string) =>
    Buffer.byteLength(`GET ${target} HTTP/1.1`) +
    Buffer.byteLength(new URL(api.url).host) +
    Buffer.byteLength('close') +
    Buffer.byteLength('quota-1');

  it('counts the request line and header values: exactly the quota passes, one byte more is a 431 problem', async () => {
    const target = '/health/live';
    const pad = quota - fixedBytes(target);
    const atQuota = await rawRequest('GET', target, {
      'X-Request-ID': 'quota-1',
      'X-Pad': 'a'.repeat(pad),
    });
    expect(atQuota.status).toBe(200);
    const over = await rawRequest('GET', target, {
      'X-Request-ID': 'quota-1',
      'X-Pad': 'a'.repeat(pad + 1),
    });
    expect(expectProblem(over, 431, 'quota-1').detail).toContain(String(quota));
  });

  it('answers headers far beyond Node’s own limit with a 431 problem too, not a bare error', async () => {
    const response = await rawRequest('GET', '/health/live', { 'X-Pad': 'a'.repeat(200_000) });
    expectProblem(response, 431);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a payload over 10 MB with a 413 problem before any function runs', async () => {
    const user = await createUser(api);
    const response = await rawRequest(
      'POST',
      '/api/v1/notes',
      {
        Authorization: `Bearer ${user.token}`,
        'Content-Type': 'application/json',
        'X-Request-ID': 'payload-1',
      },
      Buffer.alloc(HTTP_API_QUOTAS.payloadBytes + 1, 0x20),
    );
    const problem = expectProblem(response, 413, 'payload-1');
    expect(problem.detail).toContain(String(HTTP_API_QUOTAS.payloadBytes));
    // At the quota the request reaches the function, whose own 1 MiB limit answers.
    const atQuota = await rawRequest(
      'POST',
      '/api/v1/notes',
      { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
      Buffer.alloc(HTTP_API_QUOTAS.payloadBytes, 0x20),
    );
    expect(expectProblem(atQuota, 413).detail).not.toContain(String(HTTP_API_QUOTAS.payloadBytes));
  });
});

describe('CORS like the HTTP API’s corsPreflight', () => {
  const preflight = (origin: string) =>
    rawRequest('OPTIONS', '/api/v1/notes', {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type',
    });

  it('answers a preflight from an allowed origin itself, with the shared policy', async () => {
    const response = await preflight(ALLOWED_ORIGIN);
    expect(response.status).toBe(204);
    expect(response.body.length).toBe(0);
    expect(response.headers).toMatchObject({
      'access-control-allow-origin': ALLOWED_ORIGIN,
      'access-control-allow-methods': corsPolicy.allowMethods.join(','),
      'access-control-allow-headers': corsPolicy.allowHeaders.join(','),
      'access-control-max-age': '3600',
    });
    expect(response.headers['access-control-allow-headers']).toContain('authorization');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('answers a preflight from any other origin without CORS headers', async () => {
    const response = await preflight(OTHER_ORIGIN);
    expect(response.status).toBe(204);
    expect(
      Object.keys(response.headers).filter((name) => name.startsWith('access-control-')),
    ).toEqual([]);
  });

  it('leaves an OPTIONS that is not a preflight to the routes (405 with Allow)', async () => {
    const response = await rawRequest('OPTIONS', '/api/v1/notes', { Origin: ALLOWED_ORIGIN });
    expectProblem(response, 405);
    expect(response.headers.allow).toBe('POST, GET');
  });

  it('adds Allow-Origin, Expose-Headers and Vary to responses for an allowed origin only', async () => {
    const allowed = await api.get('/health/live', { headers: { origin: ALLOWED_ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-expose-headers')?.split(',')).toEqual(
      corsPolicy.exposeHeaders,
    );
    expect(allowed.headers.get('vary')).toMatch(/\bOrigin\b/);
    const problem = await api.get('/nowhere', { headers: { origin: ALLOWED_ORIGIN } });
    expect(problem.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    for (const headers of [{ origin: OTHER_ORIGIN }, {}] as Record<string, string>[]) {
      const response = await api.get('/health/live', { headers });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-expose-headers')).toBeNull();
    }
  });
});

describe('HEAD', () => {
  /** Headers that may differ between two requests: the clock, and the cache's hit or miss. */
  const VOLATILE = new Set(['date', 'x-cache']);
  const stable = (headers: Record<string, string>) =>
    Object.fromEntries(Object.entries(headers).filter(([name]) => !VOLATILE.has(name)));

  it('answers on every GET route with the GET’s status and headers and no body', async () => {
    const admin = await createUser(api, 'admin');
    const gets = routeList.filter((route) => route.method === 'GET');
    expect(gets.length).toBeGreaterThan(5);
    for (const route of gets) {
      const target = route.path.replace(/\{\w+\}/g, crypto.randomUUID());
      const headers = { Authorization: `Bearer ${admin.token}`, 'X-Request-ID': 'head-1' };
      const get = await rawRequest('GET', target, headers);
      const head = await rawRequest('HEAD', target, headers);
      expect(head.status, route.path).toBe(get.status);
      expect(stable(head.headers), route.path).toEqual(stable(get.headers));
      expect(head.body.length, route.path).toBe(0);
      if (get.status === 200) expect(get.body.length, route.path).toBeGreaterThan(0);
    }
    // An unknown path answers HEAD like GET too: the fallback's 404 headers, no body.
    const missing = await rawRequest('HEAD', '/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.body.length).toBe(0);
  });
});

describe('log context under concurrent requests', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    logger.setLogLevel('SILENT');
  });

  it('gives every log line the request id and function name of its own invocation', async () => {
    const user = await createUser(api);
    const lines: Record<string, unknown>[] = [];
    const write = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk, ...rest) => {
      const text = String(chunk);
      if (!text.startsWith('{')) return write(chunk, ...(rest as []));
      for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      return true;
    });
    logger.setLogLevel('INFO');

    const kinds = [
      { path: '/health/live', fn: 'health-live' },
      { path: '/api/v1/users/me', fn: 'users-me' },
      { path: '/api/v1/notes', fn: 'notes-list' },
      { path: '/nowhere', fn: 'system-fallback' },
    ];
    const sent = Array.from({ length: 40 }, (_, i) => ({
      ...(kinds[i % kinds.length] as (typeof kinds)[number]),
      id: `concurrent-${i}`,
    }));
    const responses = await Promise.all(
      sent.map(({ path, id }) =>
        fetch(`${api.url}${path}`, {
          headers: { authorization: `Bearer ${user.token}`, 'x-request-id': id },
        }),
      ),
    );
    expect(responses.map((r) => r.headers.get('x-request-id'))).toEqual(sent.map((s) => s.id));

    await vi.waitFor(
      () => {
        const ids = new Set(lines.map((line) => line.request_id));
        expect(sent.filter(({ id }) => !ids.has(id))).toEqual([]);
      },
      { timeout: 5000, interval: 20 },
    );
    for (const { id, fn, path } of sent) {
      const own = lines.filter((line) => line.request_id === id);
      expect(
        own.map((line) => line.function_name),
        id,
      ).toEqual(own.map(() => fn));
      const request = own.filter((line) => line.message === 'request');
      expect(request, id).toHaveLength(1);
      expect(request[0]).toMatchObject({ path, function_name: fn });
    }
  });
});
