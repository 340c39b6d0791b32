import { toApiGatewayEvent } from '../infra/local/gateway.js';
import { lambdaContext, loadHandler } from '../infra/local/lambda.js';
import { type RouteName, routes } from '../shared/routes.js';

/**
 * Returns a factory of calls to a route's real handler with an API Gateway v2 event and a
 * Lambda context, as Lambda would invoke it, signed in with `token`. A call throws on 4xx/5xx.
 */
export function makeInvoker(token: string) {
  return async (name: RouteName, path: string, query = '', body?: unknown) => {
    const route = routes[name];
    const handler = await loadHandler(route.function);
    const id = /\/([0-9a-f-]{36})$/.exec(path)?.[1];
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    return async () => {
      const event = toApiGatewayEvent(
        {
          method: route.method,
          url: `${path}${query ? `?${query}` : ''}`,
          headers: {
            authorization: `Bearer ${token}`,
            host: 'bench.local',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          sourceIp: '127.0.0.1',
        },
        payload,
        `${route.method} ${route.path}`,
        id ? { id } : undefined,
      );
      const result = await handler(event, lambdaContext(route.function));
      if (result.statusCode >= 400)
        throw new Error(`${path} → ${result.statusCode} ${result.body}`);
      return result;
    };
  };
}
