import { toApiGatewayEvent } from '../infra/local/gateway.js';
import { lambdaContext, loadHandler } from '../infra/local/lambda.js';
import { type RouteName, routes } from '../shared/routes/index.js';

/** Who calls: an access token and the source IP API Gateway would report for the caller. */
export interface Caller {
  token: string;
  sourceIp: string;
}

/**
 * Returns a factory of calls to a route's real handler with an API Gateway v2 event and a
 * Lambda context, as Lambda would invoke it, signed in as `caller` (a bare token: from
 * 127.0.0.1). A call throws on 4xx/5xx; a 429 says which budget the bench overspent.
 */
export function makeInvoker(caller: Caller | string) {
  const { token, sourceIp } =
    typeof caller === 'string' ? { token: caller, sourceIp: '127.0.0.1' } : caller;
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
          sourceIp,
        },
        payload,
        `${route.method} ${route.path}`,
        id ? { id } : undefined,
      );
      const result = await handler(event, lambdaContext(route.function));
      if (result.statusCode === 429) {
        throw new Error(
          `${path} → 429 from ${sourceIp}: the bench overspent a rate limit (${result.headers?.['RateLimit-Policy'] ?? 'per-IP or route policy'}); spread it over more callers`,
        );
      }
      if (result.statusCode >= 400)
        throw new Error(`${path} → ${result.statusCode} ${result.body}`);
      return result;
    };
  };
}

/**
 * One operation out of many, taking them in turn: each call runs the next of `calls`
 * (e.g. the same request by different callers, so no caller's budget runs out).
 */
export function roundRobin<T>(calls: ReadonlyArray<() => Promise<T>>): () => Promise<T> {
  if (calls.length === 0) throw new Error('roundRobin needs at least one call');
  let next = 0;
  return () => {
    const call = calls[next] as () => Promise<T>;
    next = (next + 1) % calls.length;
    return call();
  };
}
