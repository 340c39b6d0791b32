import { randomUUID } from 'node:crypto';
import { logger } from '../../logger.js';
import {
  countMetric,
  getMetrics,
  MetricName,
  ROUTE_DIMENSION,
  timeMetric,
} from '../../observability.js';
import type { Middleware, StackRequest } from './types.js';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The request id: the client's `X-Request-ID` when it is 1–128 chars of `[A-Za-z0-9._-]`
 * (API.md § Conventions), else a new UUID.
 */
export function requestIdFrom(headers: Record<string, string | undefined> | undefined): string {
  const given = headers?.['x-request-id'] ?? headers?.['X-Request-ID'];
  return given && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

/**
 * The first middleware after Powertools' `logMetrics`: creates the request's state (`context.requestState`: request id,
 * start time), puts the request id and Lambda context on every log line,
 * adds `X-Request-ID` and the rate-limit headers to every response, and writes one log line
 * per request (method, path, route, status, duration in ms). `route` is `"GET /path"`.
 * It also records the request's metrics, all with the dimension `route`: `Latency` (ms),
 * `ClientErrors` and `ServerErrors` (1 or 0: a response missing at this point counts as a
 * 5xx), published by Powertools' `logMetrics`, which must come before this middleware.
 */
export function requestContext(route: string): Middleware {
  const finish = (request: StackRequest) => {
    const state = request.context.requestState;
    if (request.response) {
      request.response.headers = {
        ...state.responseHeaders,
        ...request.response.headers,
        'X-Request-ID': state.requestId,
      };
    }
    const status = request.response?.statusCode;
    const durationMs = Math.round((performance.now() - state.startedAt) * 100) / 100;
    logger.info('request', {
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      route,
      status,
      duration_ms: durationMs,
    });
    // Published after this by `logMetrics` (the middleware before this one).
    getMetrics().addDimension(ROUTE_DIMENSION, route);
    timeMetric(MetricName.latency, durationMs);
    const code = status ?? 500;
    countMetric(MetricName.clientErrors, code >= 400 && code < 500 ? 1 : 0);
    countMetric(MetricName.serverErrors, code >= 500 ? 1 : 0);
    logger.removeKeys(['request_id']);
  };
  return {
    before: (request) => {
      const requestId = requestIdFrom(request.event.headers);
      request.context.requestState = {
        requestId,
        startedAt: performance.now(),
        checks: [],
      };
      logger.addContext(request.context);
      logger.appendKeys({ request_id: requestId });
    },
    after: finish,
    onError: finish,
  };
}
