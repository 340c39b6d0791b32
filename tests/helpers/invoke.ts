import { toApiGatewayEvent } from '../../infra/local/gateway.js';
import { lambdaContext, loadHandler } from '../../infra/local/lambda.js';
import { type ApiResponse, expectMatchesContract } from './api.js';

export { freshIp } from './ip.js';

/**
 * Invokes a route's Lambda handler with the API Gateway v2 event the local gateway builds,
 * as if the request came from `sourceIp` (every request through the gateway comes from
 * 127.0.0.1), and checks the answer against the route table (`expectMatchesContract`).
 */
export async function invokeRoute(
  route: { method: string; path: string; function: string },
  options: { sourceIp: string; token?: string; headers?: Record<string, string>; body?: unknown },
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
  const result = await (await loadHandler(route.function))(event, lambdaContext(route.function));
  const text: string = result.body ?? '';
  const response = {
    status: result.statusCode as number,
    headers: new Headers(result.headers as Record<string, string>),
    text,
    body: text ? JSON.parse(text) : undefined,
  };
  expectMatchesContract(route.method, route.path, response);
  return response;
}
