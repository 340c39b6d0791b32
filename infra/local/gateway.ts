import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { fallbackRoute, resolveRoute } from '../../shared/routes.js';
import { lambdaContext, loadHandler } from './lambda.js';

/** API Gateway HTTP APIs refuse payloads over 10 MB (AWS docs, "Quotas for HTTP APIs"). */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

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
 * Builds the API Gateway HTTP API payload v2.0 event for a request (AWS docs, "Working with
 * AWS Lambda proxy integrations for HTTP APIs"): lower-cased headers with repeated values
 * joined by commas, `cookies` split out, query values joined by commas, text bodies as
 * UTF-8 and anything else base64 with `isBase64Encoded`, `sourceIp` from the socket (never
 * from `X-Forwarded-For`).
 */
export function toApiGatewayEvent(
  request: { method: string; url: string; headers: IncomingMessage['headers']; sourceIp: string },
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url, 'http://localhost');
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
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys()))
    query[key] = url.searchParams.getAll(key).join(',');
  const isText = TEXT_TYPES.test(headers['content-type'] ?? 'text/plain');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
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
        path: url.pathname,
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

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_MAX_BODY_BYTES) {
        resolve(null);
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(size > GATEWAY_MAX_BODY_BYTES ? null : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
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
  response.end(body);
}

function gatewayError(status: number, message: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ message }),
  };
}

/**
 * The local API Gateway: a `node:http` server that routes each request by the route table,
 * invokes the route's Lambda handler (or the `$default` fallback) with a v2 event and a
 * Lambda context, and writes the result back. Calls `log` once per request.
 */
export async function startGateway(options: {
  port: number;
  host?: string;
  log?: (entry: GatewayRequestLog) => void;
}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    const started = performance.now();
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    let result: APIGatewayProxyStructuredResultV2;
    try {
      const body = await readBody(request);
      if (body === null) {
        result = gatewayError(413, 'Request Entity Too Large');
      } else {
        const resolved = resolveRoute(method, path);
        const route = resolved && 'route' in resolved ? resolved.route : fallbackRoute;
        const routeKey =
          resolved && 'route' in resolved ? `${route.method} ${route.path}` : '$default';
        const params = resolved && 'params' in resolved ? resolved.params : undefined;
        const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
        const event = toApiGatewayEvent(
          { method, url: request.url ?? '/', headers: request.headers, sourceIp },
          body,
          routeKey,
          params,
        );
        const handler = await loadHandler(route.function);
        result = await handler(event, lambdaContext(route.function));
      }
    } catch (error) {
      // What API Gateway answers when the function itself fails.
      console.error('function error', error);
      result = gatewayError(500, 'Internal Server Error');
    }
    writeResult(response, result);
    options.log?.({
      method,
      path,
      status: result.statusCode ?? 200,
      ms: Math.round((performance.now() - started) * 10) / 10,
      request_id: result.headers?.['X-Request-ID'] as string | undefined,
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) =>
    server.listen(options.port, options.host ?? '127.0.0.1', resolve),
  );
  const port = (server.address() as AddressInfo).port;
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
