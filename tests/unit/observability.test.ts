/**
 * `shared/observability.ts` without a Tracer, and the rule that keeps it that way: the
 * Tracer (and the X-Ray SDK) is imported only by an invocation X-Ray samples with tracing
 * enabled. This file never samples one, so the whole run of its worker process (vitest
 * isolates each file in a fresh fork) is what an unsampled Lambda instance does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { registerHooks } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  countMetric,
  currentTraceSegment,
  isTracingActive,
  MetricName,
  openSubsegment,
  timeMetric,
  traced,
} from '../../shared/observability.js';
import { routes } from '../../shared/routes/index.js';
import { useApi } from '../helpers/api.js';
import { freshIp, invokeRoute } from '../helpers/invoke.js';
import { uniqueEmail } from '../helpers/users.js';

/** Every module URL this process resolves from here on (Node's module hooks see ESM and CJS). */
const resolved: string[] = [];
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.push(result.url);
    return result;
  },
});
const TRACER_MODULE = /\/node_modules\/(@aws-lambda-powertools\/tracer|aws-xray-sdk-core)\//;

// The Lambda runtime's environment (AWS docs, "Defined runtime environment variables"), with
// the Tracer enabled: only the trace header's sampling decision keeps it unloaded.
Object.assign(process.env, {
  LAMBDA_TASK_ROOT: '/var/task',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'notes-api-test',
  _HANDLER: 'index.handler',
  POWERTOOLS_TRACE_ENABLED: 'true',
});

/** A trace header as Lambda sets it in `_X_AMZN_TRACE_ID` (AWS X-Ray docs, "Tracing header"). */
const traceHeader = (sampled: 0 | 1) =>
  `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=${sampled}`;

const api = useApi();

describe('the Tracer loads only for invocations X-Ray samples', () => {
  it('unsampled invocations (Sampled=0, no header, tracing disabled) never import it', async () => {
    const email = uniqueEmail('unsampled');
    const password = 'correct horse battery';
    const sourceIp = freshIp();
    process.env._X_AMZN_TRACE_ID = traceHeader(0);
    expect(
      (await invokeRoute(routes.register, { sourceIp, body: { email, password } })).status,
    ).toBe(201);
    const login = await invokeRoute(routes.login, { sourceIp, body: { email, password } });
    const token = login.body.access_token as string;
    const note = await invokeRoute(routes.createNote, { sourceIp, token, body: { title: 'n' } });
    expect((await api.get(`/api/v1/notes/${note.body.id}`, { token })).status).toBe(200);
    expect((await api.get(`/api/v1/notes/${randomUUID()}`, { token })).status).toBe(404);
    expect((await api.delete(`/api/v1/notes/${note.body.id}`, { token })).status).toBe(204);

    delete process.env._X_AMZN_TRACE_ID;
    expect((await invokeRoute(routes.listNotes, { sourceIp, token })).status).toBe(200);

    // Sampled, but tracing turned off (POWERTOOLS_TRACE_ENABLED=false, the Tracer's own rule).
    process.env._X_AMZN_TRACE_ID = traceHeader(1);
    process.env.POWERTOOLS_TRACE_ENABLED = 'false';
    try {
      expect((await invokeRoute(routes.listNotes, { sourceIp, token })).status).toBe(200);
    } finally {
      process.env.POWERTOOLS_TRACE_ENABLED = 'true';
      delete process.env._X_AMZN_TRACE_ID;
    }

    expect(resolved.filter((url) => TRACER_MODULE.test(url))).toEqual([]);
    expect(isTracingActive()).toBe(false);
    // The hooks do see a Tracer module when one is imported (the middy middleware alone:
    // it loads neither the Tracer nor the X-Ray SDK).
    await import('@aws-lambda-powertools/tracer/middleware');
    expect(resolved.some((url) => TRACER_MODULE.test(url))).toBe(true);
  });
});

describe('without a Tracer', () => {
  it('traced() is a plain call: the work’s value, its rejection, its synchronous throw', async () => {
    expect(currentTraceSegment()).toBeUndefined();
    expect(openSubsegment('PostgreSQL')).toBeUndefined();
    await expect(traced('Redis', async () => 42)).resolves.toBe(42);
    await expect(traced('Redis', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(() =>
      traced('SQS', () => {
        throw new Error('sync');
      }),
    ).toThrow('sync');
  });
});

describe('metric helpers', () => {
  it('never fail a caller outside an invocation (a script, a test calling a service)', async () => {
    // An invocation first: the local runtime's per-invocation store now exists, as in `npm run dev`.
    expect((await invokeRoute(routes.jwks, { sourceIp: freshIp() })).status).toBe(200);
    expect(() => {
      countMetric(MetricName.cacheHits);
      timeMetric(MetricName.latency, 12.5);
    }).not.toThrow();
  });
});
