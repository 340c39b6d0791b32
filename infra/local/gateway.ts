import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requestIdFrom } from '../../shared/http/handler.js';
import { PROBLEM_CONTENT_TYPE, problemResponse } from '../../shared/http/problem.js';
import { fallbackRoute, resolveRoute } from '../../shared/routes/index.js';
import { corsPolicy, isAllowedOrigin, localCorsOrigins } from '../cors.js';
import { lambdaContext, loadHandler } from './lambda.js';

/**
 * Quotas of API Gateway HTTP APIs that a client can run into (AWS docs, "Quotas for
 * configuring and running an HTTP API in API Gateway"; neither can be increased).
 */
export const HTTP_API_QUOTAS = {
  /** "Total combined size of request line and header values": 10240 bytes. */
  requestLineAndHeaderValuesBytes: 10_240,
  /** "Payload size": 10 MB. */
  payloadBytes: 10 * 1024 * 1024,
} as const;

/**
 * Node's own limit on the request line and headers (its default is 16 KiB). Set well above
 * the quota so that the gateway measures the quota itself and answers with a problem; a
 * request beyond even this is answered from the server's `clientError` event.
 */
const NODE_MAX_HEADER_BYTES = 64 * 1024;

const HEADER_QUOTA_DETAIL = `The request line and header values exceed ${HTTP_API_QUOTAS.requestLineAndHeaderValuesBytes} bytes. Send smaller headers.`;

const TEXT_TYPES =
  /^(text\/|application\/(json|[\w.+-]+\+json|x-www-form-urlencoded|xml|javascript))/i;

export interface GatewayRequestLog {
  method: string;
  path: string;
  status: number;
  ms: number;
  request_id: string | undefined;
}

/**
 * Splits an HTTP request-target (RFC 9112 §3.2) into its raw path and raw query string,
 * exactly as sent: no percent-decoding and no dot-segment removal (which `new URL()` would
 * do, `%2e%2e` included). Accepts origin-form (`/a/b?q`) and absolute-form
 * (`http://host/a/b?q`); returns null for anything else (`*`, authority-form, garbage).
 */
export function splitRequestTarget(target: string): { path: string; query: string } | null {
  let rest = target;
  if (!rest.startsWith('/')) {
    const authority = /^https?:\/\/[^/?#\s]+/i.exec(rest);
    if (!authority) return null;
    rest = rest.slice(authority[0].length);
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  const mark = rest.indexOf('?');
  return mark === -1
    ? { path: rest, query: '' }
    : { path: rest.slice(0, mark), query: rest.slice(mark + 1) };
}

/**
 * Builds the API Gateway HTTP API payload v2.0 event for a request (AWS docs, "Working with
 * AWS Lambda proxy integrations for HTTP APIs"): `rawPath` and `rawQueryString` as sent,
 * lower-cased headers with repeated values joined by commas, `cookies` split out, query
 * values decoded and joined by commas, text bodies as UTF-8 and anything else base64 with
 * `isBase64Encoded`, `sourceIp` from the socket (never from `X-Forwarded-For`).
 * `request.url` is the request-target (`/path?query`).
 */
export function toApiGatewayEvent(
  request: { method: string; url: string; headers: IncomingHttpHeaders; sourceIp: string },
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
): APIGatewayProxyEventV2 {
  const { path, query: rawQuery } = splitRequestTarget(request.url) ?? {
    path: request.url,
    query: '',
  };
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') {
      cookies = String(value).split(/;\s*/);
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const searchParams = new URLSearchParams(rawQuery);
  const query: Record<string, string> = {};
  for (const key of new Set(searchParams.keys())) query[key] = searchParams.getAll(key).join(',');
  const isText = TEXT_TYPES.test(headers['content-type'] ?? 'text/plain');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: rawQuery,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(pathParameters && Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method: request.method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length
      ? { body: isText ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !isText }
      : { isBase64Encoded: false }),
  };
}

/**
 * Size of a request as API Gateway counts it against its header quota: the request line
 * (`METHOD SP target SP HTTP/x.y`) plus every header value, in bytes.
 */
export function requestLineAndHeaderValuesBytes(request: IncomingMessage): number {
  let size = Buffer.byteLength(
    `${request.method ?? ''} ${request.url ?? ''} HTTP/${request.httpVersion}`,
  );
  for (let i = 1; i < request.rawHeaders.length; i += 2) {
    size += Buffer.byteLength(request.rawHeaders[i] ?? '');
  }
  return size;
}

/** Reads the body; null once it passes the payload quota (the rest is read and dropped). */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > HTTP_API_QUOTAS.payloadBytes) {
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () =>
      resolve(size > HTTP_API_QUOTAS.payloadBytes ? null : Buffer.concat(chunks)),
    );
    request.on('error', reject);
  });
}

/** Lower-cased single-valued headers, as `requestIdFrom` reads them. */
function flatHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers))
    flat[name] = Array.isArray(value) ? value.join(',') : value;
  return flat;
}

/**
 * Adds what API Gateway adds to the response of an allowed cross-origin request (AWS docs,
 * "Configure CORS for HTTP APIs"): `Access-Control-Allow-Origin`, `-Expose-Headers` and
 * `Vary: Origin`. CORS headers the function returned are dropped, as API Gateway ignores
 * them once the API has a CORS configuration.
 */
function withCorsHeaders(
  result: APIGatewayProxyStructuredResultV2,
  origin: string | undefined,
  allowOrigins: readonly string[],
): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string | number | boolean> = {};
  let vary: string[] = [];
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'vary')
      vary = String(value)
        .split(/\s*,\s*/)
        .filter(Boolean);
    else if (!lower.startsWith('access-control-')) headers[name] = value;
  }
  if (origin && isAllowedOrigin(origin, allowOrigins)) {
    headers['Access-Control-Allow-Origin'] = allowOrigins.includes('*') ? '*' : origin;
    headers['Access-Control-Expose-Headers'] = corsPolicy.exposeHeaders.join(',');
    if (!vary.some((name) => name.toLowerCase() === 'origin')) vary.push('Origin');
  }
  if (vary.length) headers.Vary = vary.join(', ');
  return { ...result, headers };
}

/**
 * The answer to a CORS preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`), which API Gateway gives itself without calling a
 * function: 204, with the policy's headers when the origin is allowed and none otherwise
 * (the browser then refuses the actual request).
 */
function preflightResult(
  origin: string,
  allowOrigins: readonly string[],
  requestId: string,
): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { 'X-Request-ID': requestId, Vary: 'Origin' };
  if (isAllowedOrigin(origin, allowOrigins)) {
    headers['Access-Control-Allow-Origin'] = allowOrigins.includes('*') ? '*' : origin;
    headers['Access-Control-Allow-Methods'] = corsPolicy.allowMethods.join(',');
    headers['Access-Control-Allow-Headers'] = corsPolicy.allowHeaders.join(',');
    headers['Access-Control-Max-Age'] = String(corsPolicy.maxAgeSeconds);
  }
  return { statusCode: 204, headers };
}

/** A problem+json answer made by the gateway itself, carrying `X-Request-ID`. */
function gatewayProblem(
  status: number,
  detail: string,
  context: { requestId: string; instance: string },
): APIGatewayProxyStructuredResultV2 {
  const result = problemResponse(status, detail, context);
  return { ...result, headers: { ...result.headers, 'X-Request-ID': context.requestId } };
}

function writeResult(
  response: ServerResponse,
  result: APIGatewayProxyStructuredResultV2,
  method: string,
): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body =
    result.body === undefined
      ? undefined
      : result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : Buffer.from(result.body, 'utf8');
  if (body) headers['content-length'] = String(body.length);
  response.writeHead(result.statusCode ?? 200, headers);
  // HEAD: the GET's status and headers (Content-Length included), no content (RFC 9110 §9.3.2).
  response.end(method === 'HEAD' ? undefined : body);
}

/**
 * Answers a request Node's parser refused before any handler ran (a header section over
 * `NODE_MAX_HEADER_BYTES`, a malformed request, a request that took too long to arrive)
 * with a problem written straight to the socket, as Node's `clientError` event requires;
 * the connection is then closed. Nothing of the request can be trusted, so the request id
 * is a new one and the instance is `/`.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, HEADER_QUOTA_DETAIL]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request was not received in time.']
        : [400, 'The request is not valid HTTP/1.1.'];
  const requestId = randomUUID();
  const { body = '' } = problemResponse(status, detail, { requestId, instance: '/' });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-ID: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** A CORS preflight request: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
function isPreflight(request: IncomingMessage): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}

/**
 * What the gateway answers to one request, before CORS response headers: its own 400, 431,
 * preflight or 413, else the result of the route's function (or of the `$default` fallback).
 */
async function answer(
  request: IncomingMessage,
  allowOrigins: readonly string[],
  context: { requestId: string; instance: string },
): Promise<APIGatewayProxyStructuredResultV2> {
  const method = request.method ?? 'GET';
  const target = splitRequestTarget(request.url ?? '/');
  const quota = HTTP_API_QUOTAS.requestLineAndHeaderValuesBytes;
  if (!target || requestLineAndHeaderValuesBytes(request) > quota) {
    request.resume();
    return target
      ? gatewayProblem(431, HEADER_QUOTA_DETAIL, context)
      : gatewayProblem(400, 'The request target must be an absolute path.', context);
  }
  const origin = request.headers.origin;
  if (origin && isPreflight(request)) {
    request.resume();
    return preflightResult(origin, allowOrigins, context.requestId);
  }
  const body = await readBody(request);
  if (body === null) {
    const detail = `The request body exceeds ${HTTP_API_QUOTAS.payloadBytes} bytes.`;
    return gatewayProblem(413, detail, context);
  }
  const resolved = resolveRoute(method, target.path);
  const matched = resolved && 'route' in resolved ? resolved : undefined;
  const route = matched?.route ?? fallbackRoute;
  const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const event = toApiGatewayEvent(
    { method, url: request.url ?? '/', headers: request.headers, sourceIp },
    body,
    matched ? `${method} ${route.path}` : '$default',
    matched?.params,
  );
  const handler = await loadHandler(route.function);
  return handler(event, lambdaContext(route.function));
}

/**
 * The local API Gateway: a `node:http` server that behaves like an HTTP API where a client
 * can tell. It routes each request on its raw path by the route table (`HEAD` to the `GET`
 * route), invokes the route's Lambda handler (or the `$default` fallback) with a v2 event
 * and a Lambda context, and writes the result back. Like API Gateway it answers CORS
 * preflights from `corsOrigins` and adds CORS headers to allowed cross-origin responses,
 * and refuses requests over its quotas (431 for the request line and headers, 413 for the
 * payload); the gateway's own errors are problem+json with `X-Request-ID`. Calls `log` once
 * per request. `corsOrigins` defaults to `localCorsOrigins(port)` (`CORS_ORIGINS`).
 * Errors: the listen error, e.g. `EADDRINUSE` when the port is taken.
 */
export async function startGateway(options: {
  port: number;
  host?: string;
  corsOrigins?: string[];
  log?: (entry: GatewayRequestLog) => void;
}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  let allowOrigins: readonly string[] = options.corsOrigins ?? [];
  const server = createServer(
    { maxHeaderSize: NODE_MAX_HEADER_BYTES },
    async (request, response) => {
      const started = performance.now();
      const method = request.method ?? 'GET';
      const path = splitRequestTarget(request.url ?? '/')?.path ?? '/';
      const requestId = requestIdFrom(flatHeaders(request.headers));
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = await answer(request, allowOrigins, { requestId, instance: path });
      } catch (error) {
        // What API Gateway answers when the function itself fails, as a problem.
        console.error('function error', error);
        result = gatewayProblem(500, 'An unexpected error occurred.', {
          requestId,
          instance: path,
        });
      }
      if (!isPreflight(request)) {
        result = withCorsHeaders(result, request.headers.origin, allowOrigins);
      }
      writeResult(response, result, method);
      options.log?.({
        method,
        path,
        status: result.statusCode ?? 200,
        ms: Math.round((performance.now() - started) * 10) / 10,
        request_id: String(result.headers?.['X-Request-ID'] ?? requestId),
      });
    },
  );
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 5000;
  // A taken port rejects with the listen error (`code: 'EADDRINUSE'`), not an uncaught one.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowOrigins = options.corsOrigins ?? localCorsOrigins(port);
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
