import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ErrorKind } from '../../../shared/errors.js';
import { fuzzRuns, httpEvent, publishMetrics, type StackHandler, stack } from './harness.js';

/**
 * A stand-in X-Ray daemon: the UDP socket the X-Ray SDK sends its (sub)segment documents to
 * (`{"format":"json","version":1}\n{…}`, one per datagram). The SDK reads its address and
 * whether it runs in Lambda (`LAMBDA_TASK_ROOT`) once, when it first loads: set here, before
 * any test loads it. Each test then says whether it is "in Lambda" (`AWS_EXECUTION_ENV`, read
 * by each new Tracer) and whether the invocation is sampled (`_X_AMZN_TRACE_ID`).
 */
const daemon = createSocket('udp4');
const documents: Record<string, unknown>[] = [];
daemon.on('message', (message) => {
  const [, body] = message.toString('utf8').split('\n');
  if (body) documents.push(JSON.parse(body) as Record<string, unknown>);
});
await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
Object.assign(process.env, {
  AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
  LAMBDA_TASK_ROOT: '/var/task',
  _HANDLER: 'index.handler',
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
});
afterAll(() => daemon.close());

const ENV_KEYS = [
  '_X_AMZN_TRACE_ID',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'POWERTOOLS_TRACE_ENABLED',
] as const;
const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
afterEach(() => {
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

/** A trace header of a new trace (X-Ray trace id format), sampled or not. */
function traceHeader(sampled: boolean): { header: string; traceId: string } {
  const traceId = `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const parent = randomBytes(8).toString('hex');
  return { header: `Root=${traceId};Parent=${parent};Sampled=${sampled ? 1 : 0}`, traceId };
}

/**
 * Fresh copies of the tracing middleware and of the instance state it keeps (the Tracer
 * loaded once per instance, the cold-start flag), as in a new Lambda instance.
 */
async function newInstance() {
  vi.resetModules();
  const [
    { tracing },
    { getMetrics, isTracingActive },
    { requestContext },
    { problemDetails },
    errors,
  ] = await Promise.all([
    import('../../../shared/http/middleware/tracing.js'),
    import('../../../shared/observability.js'),
    import('../../../shared/http/middleware/request-context.js'),
    import('../../../shared/http/middleware/problem-details.js'),
    // The errors the fresh problem mapping knows (`instanceof` is per module instance).
    import('../../../shared/errors.js'),
  ]);
  /** The stack's head as `createHandler` composes it, with or without tracing. */
  const route = (handler: StackHandler, traced = true) => {
    const head = [publishMetrics(getMetrics()), requestContext('GET /t')];
    const call = stack(
      traced ? [...head, tracing(), problemDetails()] : [...head, problemDetails()],
      handler,
    );
    return () => call(httpEvent({ headers: { 'x-request-id': 'fixed-id' } }));
  };
  return { route, isTracingActive, errors };
}

const ok: StackHandler = async () => ({ statusCode: 200, body: 'ok' });

/** The `## index.handler` subsegment documents of `traceId` (polled: UDP is asynchronous). */
async function handlerSubsegments(traceId: string, count: number) {
  const mine = () =>
    documents.filter((doc) => doc.trace_id === traceId && doc.name === '## index.handler');
  await vi.waitFor(() => expect(mine()).toHaveLength(count), { timeout: 5000, interval: 10 });
  return mine();
}

describe('tracing middleware', () => {
  it('never activates the Tracer for an invocation X-Ray does not sample', async () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    const { route, isTracingActive } = await newInstance();
    delete process.env._X_AMZN_TRACE_ID;
    expect((await route(ok)()).statusCode).toBe(200);
    process.env._X_AMZN_TRACE_ID = traceHeader(false).header;
    expect((await route(ok)()).statusCode).toBe(200);
    expect(isTracingActive()).toBe(false);
  });

  it('stays off when POWERTOOLS_TRACE_ENABLED is false, and outside Lambda', async () => {
    process.env._X_AMZN_TRACE_ID = traceHeader(true).header;
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    process.env.POWERTOOLS_TRACE_ENABLED = 'false';
    const disabled = await newInstance();
    expect((await disabled.route(ok)()).statusCode).toBe(200);
    expect(disabled.isTracingActive()).toBe(false);
    delete process.env.POWERTOOLS_TRACE_ENABLED;
    delete process.env.AWS_EXECUTION_ENV;
    const local = await newInstance();
    expect((await local.route(ok)()).statusCode).toBe(200);
    expect(local.isTracingActive()).toBe(false);
  });

  it('traces a sampled invocation in Lambda: a 4xx closes the subsegment as a response, a 5xx as a fault', async () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand'; // the Tracer's cold-start rule
    const { route, isTracingActive, errors } = await newInstance();
    const clientError = traceHeader(true);
    process.env._X_AMZN_TRACE_ID = clientError.header;
    expect(
      (
        await route(async () => {
          throw new errors.NotFound();
        })()
      ).statusCode,
    ).toBe(404);
    expect(isTracingActive()).toBe(true);
    const serverError = traceHeader(true);
    process.env._X_AMZN_TRACE_ID = serverError.header;
    expect(
      (
        await route(async () => {
          throw new Error('boom');
        })()
      ).statusCode,
    ).toBe(500);

    const [first] = await handlerSubsegments(clientError.traceId, 1);
    expect(first).not.toHaveProperty('fault');
    expect(first).not.toHaveProperty('error');
    expect(first).toMatchObject({ annotations: { ColdStart: true } });
    const [second] = await handlerSubsegments(serverError.traceId, 1);
    expect(second).toMatchObject({ fault: true, annotations: { ColdStart: false } });
  });

  it('never changes the response, sampled or not', async () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    const { route, errors } = await newInstance();
    const outcome = fc.oneof(
      fc.integer({ min: 200, max: 599 }).map((status) => ({ status })),
      fc
        .constantFrom<ErrorKind>(
          'bad_request',
          'not_found',
          'conflict',
          'validation',
          'unavailable',
        )
        .map((kind) => ({ error: new errors.AppError(kind, `detail ${kind}`) as Error })),
      fc.string().map((message) => ({ error: new Error(message) })),
    );
    await fc.assert(
      fc.asyncProperty(outcome, fc.boolean(), async (result, sampled) => {
        const handler: StackHandler = async () => {
          if ('error' in result) throw result.error;
          return { statusCode: result.status, body: `status ${result.status}` };
        };
        process.env._X_AMZN_TRACE_ID = traceHeader(sampled).header;
        expect(await route(handler)()).toEqual(await route(handler, false)());
      }),
      { numRuns: fuzzRuns(50) },
    );
  });
});
