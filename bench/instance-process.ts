/**
 * One Lambda instance for the handler-overhead budgets, in a process of its own. Lambda on
 * demand gives an instance one invocation at a time and no per-invocation store (the Node.js
 * runtime keeps one only with `AWS_LAMBDA_MAX_CONCURRENCY`, on Managed Instances), and the
 * instance shares its CPU with nothing else of ours: here the function's handler is imported
 * and called directly with an API Gateway v2 event and a Lambda context, alternating with the
 * bare query on the same postgres.js pool, and neither shares the event loop with the bench's
 * local SQS, S3 and pollers. Started by `measureInInstance` (`instance.ts`), which passes the
 * functions' environment and `BENCH_INSTANCE_FILE` (a file holding an `InstanceSpec` as JSON); the ready value
 * is the samples (`InstanceSamples`).
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { toApiGatewayEvent } from '../infra/local/gateway.js';
import { lambdaContext } from '../infra/local/lambda.js';
import { isAccessTokenRevoked } from '../shared/auth/revocation.js';
import { consumeRateLimit, takeBudgets } from '../shared/cache/rate-limiter.js';
import { RedisBatch } from '../shared/cache/redis-batch.js';
import { closeSql, getSql } from '../shared/db/client.js';
import type { HttpEvent, HttpResult } from '../shared/http/handler.js';
import { rateLimitPolicies } from '../shared/rate-limits.js';
import { routes } from '../shared/routes/index.js';
import { serveParent } from './children.js';
import type { InstanceSamples, InstanceSpec } from './instance.js';
import { roundRobin } from './invoke.js';
import { PAIR_WARMUP, timePair } from './stats.js';

/** Blocks of calls whose CPU time is measured, per kind, and the calls in each. */
const CPU_ROUNDS = 4;
const CPU_BLOCK = 250;

/** The CPU time (user + system) this process spends per call of `call`, in ms, over `count` calls. */
async function cpuPerCall(call: () => Promise<unknown>, count: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) await call();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / count;
}

await serveParent<InstanceSamples>(async () => {
  const file = process.env.BENCH_INSTANCE_FILE;
  if (!file) throw new Error('BENCH_INSTANCE_FILE is not set');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as InstanceSpec;
  const route = routes[spec.route];
  const { handler } = (await import(`../functions/${route.function}.ts`)) as {
    handler: (event: HttpEvent, context: Context) => Promise<HttpResult>;
  };
  const sql = getSql();
  const routeKey = `${route.method} ${route.path}`;

  // Each caller's event is built once; each invocation gets its own copy (the header
  // normaliser replaces `headers`) and its own Lambda context, all made before any call is
  // timed, as the Lambda service makes them outside the function.
  const events = spec.calls.map((call) =>
    toApiGatewayEvent(
      {
        method: route.method,
        url: `${call.path}${call.query ? `?${call.query}` : ''}`,
        headers: { authorization: `Bearer ${call.token}`, host: 'bench.local' },
        sourceIp: call.sourceIp,
      },
      Buffer.alloc(0),
      routeKey,
      call.pathParameters,
    ),
  );
  // The probe, the warm-up, timePair's untimed and timed calls, the CPU blocks.
  const invocations = 1 + spec.warmup + PAIR_WARMUP + spec.iterations + CPU_ROUNDS * CPU_BLOCK;
  const inputs = Array.from({ length: invocations }, (_, i) => {
    const event = events[i % events.length] as HttpEvent;
    return {
      path: event.rawPath,
      event: { ...event, headers: { ...event.headers } },
      context: lambdaContext(route.function),
    };
  });
  let next = 0;
  const handlerCall = async () => {
    const input = inputs[next++];
    if (!input) throw new Error(`more than the ${invocations} invocations prepared`);
    const result = await handler(input.event, input.context);
    if (result.statusCode !== 200) {
      throw new Error(`${input.path} → ${result.statusCode} ${result.body}`);
    }
    return result;
  };
  const bares = spec.calls.map((call) => () => sql.unsafe(spec.bare, call.bareParams));
  const bareCall = roundRobin(bares);
  // The limits run in every timed request: a response carries the route budget's headers.
  const probe = await handlerCall();
  if (!Object.keys(probe.headers ?? {}).some((name) => name.toLowerCase() === 'ratelimit-limit')) {
    throw new Error(`${routeKey} has no RateLimit-Limit header: the rate limits did not run`);
  }
  // Steady state, as a warm instance serves it: V8 optimises the handler's path over the first
  // few hundred calls (the first 1,000 timed calls ran ~40% slower than later ones here).
  for (let i = 0; i < spec.warmup; i++) {
    await handlerCall();
    await bareCall();
  }
  const [handlerSamples, bareSamples] = await timePair(handlerCall, bareCall, spec.iterations);

  // The design's floor: the bare query with the stack's one Redis pipeline (per-IP budgets,
  // deny list, route budget) sent concurrently, and nothing else of the stack.
  const policy = route.rateLimit;
  const floors = spec.calls.map((call, i) => async () => {
    const batch = new RedisBatch();
    const checks = [
      takeBudgets(
        `ip:${call.sourceIp}`,
        [
          { policy: rateLimitPolicies.ipRequests, cost: 1 },
          { policy: rateLimitPolicies.ipRefusedCredentials, cost: 0 },
        ],
        Date.now(),
        batch,
      ),
      isAccessTokenRevoked(`bench-${i}`, batch),
      policy ? consumeRateLimit(policy, `user:${call.userId}`, batch) : undefined,
    ];
    void batch.send();
    await (bares[i] as () => Promise<unknown>)();
    await Promise.all(checks);
  });
  const floorCall = roundRobin(floors);
  const [floorSamples, floorBareSamples] = await timePair(
    floorCall,
    bareCall,
    spec.floorIterations,
  );
  // This process's CPU per call (user + system, ms), in blocks of each alone: the part of a
  // request the instance itself pays for, beside the wall time above.
  const cpu = { handler: 0, bare: 0, floor: 0 };
  for (let round = 0; round < CPU_ROUNDS; round++) {
    cpu.handler += await cpuPerCall(handlerCall, CPU_BLOCK);
    cpu.bare += await cpuPerCall(bareCall, CPU_BLOCK);
    cpu.floor += await cpuPerCall(floorCall, CPU_BLOCK);
  }
  return {
    ready: {
      handler: handlerSamples,
      bare: bareSamples,
      floor: floorSamples,
      floorBare: floorBareSamples,
      cpu: {
        handler: cpu.handler / CPU_ROUNDS,
        bare: cpu.bare / CPU_ROUNDS,
        floor: cpu.floor / CPU_ROUNDS,
      },
    },
    stop: () => closeSql(),
  };
});
