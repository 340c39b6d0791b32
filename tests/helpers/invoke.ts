import { toApiGatewayEvent } from '../../infra/local/gateway.js';
import { invokeScoped, lambdaContext, loadHandler } from '../../infra/local/lambda.js';
import type { HttpHandler, HttpResult } from '../../shared/http/handler.js';
import { type ApiResponse, expectMatchesContract } from './api.js';

export { freshIp } from './ip.js';

/** A request to one route's handler, as the local gateway would pass it on. */
export interface InvokeOptions {
  sourceIp: string;
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Invokes `handler` (a route's, or a test-only one built with `createHandler` for `route`)
 * with the API Gateway v2 event the local gateway builds for `route`, as if the request came
 * from `sourceIp`, in its own invocation scope as the runtime runs each event.
 */
export async function invokeHandler(
  handler: HttpHandler,
  route: { method: string; path: string; function: string },
  options: InvokeOptions,
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const event = toApiGatewayEvent(
    { method: route.method, url: route.path, headers, sourceIp: options.sourceIp },
    Buffer.from(options.body === undefined ? '' : JSON.stringify(options.body)),
    `${route.method} ${route.path}`,
    undefined,
  );
  const result = (await invokeScoped(
    handler as never,
    event,
    lambdaContext(route.function),
  )) as HttpResult;
  const text: string = result.body ?? '';
  return {
    status: result.statusCode as number,
    headers: new Headers(result.headers as Record<string, string>),
    text,
    body: text ? JSON.parse(text) : undefined,
  };
}

/**
 * Invokes a route's Lambda handler (`invokeHandler` on its function's `handler`), as if the
 * request came from `sourceIp` (every request through the gateway comes from 127.0.0.1),
 * and checks the answer against the route table (`expectMatchesContract`).
 */
export async function invokeRoute(
  route: { method: string; path: string; function: string },
  options: InvokeOptions,
): Promise<ApiResponse> {
  const response = await invokeHandler(
    (await loadHandler(route.function)) as HttpHandler,
    route,
    options,
  );
  expectMatchesContract(route.method, route.path, response);
  return response;
}
