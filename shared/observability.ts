import { shouldUseInvokeStore } from '@aws-lambda-powertools/commons/utils/env';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
// Types only: the Tracer (with the X-Ray SDK, ~136 KiB and ~40 ms to load) is imported by
// `shared/http/middleware/tracing.ts` on the first invocation X-Ray samples, never here.
import type { Tracer } from '@aws-lambda-powertools/tracer';

let instanceMetrics: Metrics | undefined;

/**
 * The instance's CloudWatch metrics (Powertools Metrics, written as Embedded Metric Format
 * log lines, no API call), created on first use: namespace from `POWERTOOLS_METRICS_NAMESPACE`
 * (`metricsNamespace` in infra/observability.ts, per stage) and service from
 * `POWERTOOLS_SERVICE_NAME`, read then; off with `POWERTOOLS_METRICS_DISABLED=true` (the
 * local stack and the tests, unless a test turns it on). Created lazily because the local
 * stack imports this module before it sets the functions' environment. The HTTP stack
 * publishes once per request (Powertools' `logMetrics` middleware), with a cold-start metric
 * on an instance's first invocation.
 */
export function getMetrics(): Metrics {
  instanceMetrics ??= new Metrics();
  return instanceMetrics;
}

/** Names of the metrics this backend emits (the dashboard reads the same names). */
export const MetricName = {
  /** Milliseconds from the first middleware to the response, dimension `route`. */
  latency: 'Latency',
  /** 1 when the response was 4xx, else 0 (so the average is the 4xx rate). */
  clientErrors: 'ClientErrors',
  /** 1 when the response was 5xx, else 0. */
  serverErrors: 'ServerErrors',
  cacheHits: 'CacheHits',
  cacheMisses: 'CacheMisses',
  /** Reads served from the source because Redis was unavailable. */
  cacheBypasses: 'CacheBypasses',
  /** Requests a rate limit refused (429). */
  rateLimited: 'RateLimited',
  /** Powertools' own cold-start metric (`captureColdStartMetric`), dimension `function_name`. */
  coldStart: 'ColdStart',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** The dimension that names the route of a request's metrics: `"GET /api/v1/notes/{id}"`. */
export const ROUTE_DIMENSION = 'route';

/**
 * Whether a metric recorded now has an invocation to belong to. With concurrent invocations
 * (`AWS_LAMBDA_MAX_CONCURRENCY`; locally always) Powertools keeps metrics in the invocation's
 * store and throws outside one (a script or a test calling a service directly), where nothing
 * would publish them anyway; such metrics are dropped instead.
 */
function inInvocation(): boolean {
  return !shouldUseInvokeStore() || globalThis.awslambda?.InvokeStore?.hasContext() === true;
}

/** Adds `value` (default 1) to a count metric of the current invocation. */
export function countMetric(name: MetricName, value = 1): void {
  if (inInvocation()) getMetrics().addMetric(name, MetricUnit.Count, value);
}

/** Records a duration in milliseconds for the current invocation. */
export function timeMetric(name: MetricName, milliseconds: number): void {
  if (inInvocation()) getMetrics().addMetric(name, MetricUnit.Milliseconds, milliseconds);
}

/** An X-Ray segment or subsegment, as the Tracer hands them out. */
export type TraceSegment = NonNullable<ReturnType<Tracer['getSegment']>>;
/** An X-Ray subsegment (`openSubsegment`). */
export type TraceSubsegment = ReturnType<TraceSegment['addNewSubsegment']>;

let activeTracer: Tracer | undefined;

/**
 * Makes `tracer` the one `traced`, `openSubsegment` and `currentTraceSegment` use. Called
 * once per instance by the tracing middleware after it loaded the Tracer, with tracing on.
 */
export function activateTracer(tracer: Tracer): void {
  activeTracer = tracer;
}

/**
 * Whether this instance has loaded an enabled Tracer (it has served an invocation X-Ray
 * sampled). Until then nothing is traced, and the database client is not wrapped.
 */
export function isTracingActive(): boolean {
  return activeTracer !== undefined;
}

/**
 * The segment of the current invocation when X-Ray samples it (inside the HTTP stack, the
 * handler's subsegment that Powertools' `captureLambdaHandler` opened); undefined when the
 * Tracer is not loaded or the invocation is not sampled.
 */
export function currentTraceSegment(): TraceSegment | undefined {
  const segment = activeTracer?.getSegment();
  return segment && !segment.notTraced ? segment : undefined;
}

/**
 * Opens a subsegment named `name` (`PostgreSQL`, `Redis`, `SQS`) under `parent` (default: the
 * current invocation's segment) in the `remote` namespace, so X-Ray's service map draws the
 * dependency as its own node (X-Ray segment documents, "namespace"). It is not made the
 * current segment: invocations and the work inside one run concurrently, so a shared
 * "current" would put siblings under each other. The caller closes it (`close(error?)`).
 * Returns undefined when nothing is traced.
 */
export function openSubsegment(
  name: string,
  parent: TraceSegment | undefined = currentTraceSegment(),
): TraceSubsegment | undefined {
  if (!parent) return undefined;
  const subsegment = parent.addNewSubsegment(name);
  subsegment.namespace = 'remote';
  return subsegment;
}

/** Closes `subsegment` when `work` settles, with the error recorded when it rejects. */
export function closeWhenSettled(subsegment: TraceSubsegment, work: PromiseLike<unknown>): void {
  work.then(
    () => subsegment.close(),
    (error: unknown) => subsegment.close(error instanceof Error ? error : String(error)),
  );
}

/**
 * Runs `work` in an X-Ray subsegment named `name` (see `openSubsegment`), closed when it
 * settles, with the error recorded when it fails (or throws); returns what `work` returns,
 * and throws what it throws. A plain call
 * when nothing is traced: one variable check while the Tracer is not loaded.
 */
export function traced<T>(name: string, work: () => Promise<T>): Promise<T> {
  const subsegment = openSubsegment(name);
  if (!subsegment) return work();
  let running: Promise<T>;
  try {
    running = work();
  } catch (error) {
    subsegment.close(error instanceof Error ? error : String(error));
    throw error;
  }
  closeWhenSettled(subsegment, running);
  return running;
}
