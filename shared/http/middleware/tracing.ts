import { getStringFromEnv, isRequestXRaySampled } from '@aws-lambda-powertools/commons/utils/env';
import { logger } from '../../logger.js';
import { activateTracer } from '../../observability.js';
import type { Middleware, StackRequest } from './types.js';

/**
 * Powertools' `captureLambdaHandler` around the instance's Tracer, loaded on the first
 * sampled invocation; null when the Tracer says tracing is off (outside Lambda, SAM CLI) or
 * it could not be loaded.
 */
let capture: Promise<Middleware | null> | undefined;
/** Whether an invocation has started in this instance before (the cold-start annotation). */
let warm = false;

/**
 * Tracing is on unless `POWERTOOLS_TRACE_ENABLED` is `false`: the Tracer's own rule
 * (Powertools docs, "Tracer" environment variables), checked before loading it.
 */
function tracingAllowed(): boolean {
  const value = getStringFromEnv({ key: 'POWERTOOLS_TRACE_ENABLED', defaultValue: '' });
  return value.toLowerCase() !== 'false';
}

/**
 * Loads the Tracer (and the X-Ray SDK it brings) and Powertools' handler middleware. The
 * Tracer does not patch `http`/`https`/`fetch` (`captureHTTPsRequests: false`): PostgreSQL,
 * Redis and SQS get named subsegments of their own (`traced`, the database client), and a
 * patch applied mid-life would change the process for every later request. Responses are
 * not recorded (`captureResponse: false`): they hold user data and tokens. When this is not
 * the instance's first invocation, the Tracer's cold-start flag starts false, so the
 * `ColdStart` annotation is true only on the invocation that really started the instance.
 */
async function loadCapture(coldStart: boolean): Promise<Middleware | null> {
  try {
    const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ]);
    /** A Tracer created after the instance started knows the start was not now. */
    class InstanceTracer extends Tracer {
      constructor() {
        super({ captureHTTPsRequests: false });
        if (!coldStart) this.coldStart = false;
      }
    }
    const tracer = new InstanceTracer();
    if (!tracer.isTracingEnabled()) return null;
    activateTracer(tracer);
    return captureLambdaHandler(tracer, { captureResponse: false }) as unknown as Middleware;
  } catch (error) {
    // Tracing is never worth a failed request.
    logger.warn('tracer unavailable; tracing off for this instance', {
      error: (error as Error).message,
    });
    return null;
  }
}

/**
 * X-Ray tracing of the HTTP stack by Powertools' `captureLambdaHandler` (a `## <handler>`
 * subsegment per invocation, `ColdStart` and `Service` annotations, errors as metadata),
 * loaded only when used: on an invocation X-Ray samples (`Sampled=1` in the trace header,
 * `_X_AMZN_TRACE_ID` or the invoke store) with tracing enabled, by a dynamic `import()` of
 * `@aws-lambda-powertools/tracer`. Unsampled invocations, and every invocation outside
 * Lambda, never load it. Put it right after `requestContext`: its `onError` then runs after
 * `problemDetails`, and an error answered below 500 closes the subsegment like a response
 * (a client's mistake is no fault of the function); 5xx and unanswered errors are recorded
 * as errors.
 */
export function tracing(): Middleware {
  const traced = new WeakMap<StackRequest, Middleware>();
  return {
    before: async (request) => {
      const coldStart = !warm;
      warm = true;
      if (!isRequestXRaySampled() || !tracingAllowed()) return;
      capture ??= loadCapture(coldStart);
      const middleware = await capture;
      if (!middleware) return;
      traced.set(request, middleware);
      await middleware.before?.(request);
    },
    after: async (request) => {
      await traced.get(request)?.after?.(request);
    },
    onError: async (request) => {
      const middleware = traced.get(request);
      if (!middleware) return;
      const status = request.response?.statusCode;
      if (status !== undefined && status < 500) await middleware.after?.(request);
      else await middleware.onError?.(request);
    },
  };
}
