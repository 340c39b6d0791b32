import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteName } from '../shared/routes/index.js';
import { startChild } from './children.js';

/** One caller's request to the timed route, and the bare query's parameters for the same row(s). */
export interface InstanceCall {
  /** The request path, e.g. `/api/v1/notes/<id>`. */
  path: string;
  /** The raw query string, without `?`. */
  query?: string;
  /** API Gateway's path parameters for the route, e.g. `{ id }`. */
  pathParameters?: Record<string, string>;
  token: string;
  /** The caller's user id (its route budget's identity). */
  userId: string;
  sourceIp: string;
  /** `$1, $2, …` of `InstanceSpec.bare` for this caller. */
  bareParams: (string | number)[];
}

/** What `measureInInstance` times: a route's handler against the bare SQL it stands for. */
export interface InstanceSpec {
  route: RouteName;
  /** The callers take turns (their budgets each see a share of the calls). */
  calls: InstanceCall[];
  /** The bare query, with `$n` parameters (postgres.js `unsafe`, as the handler's pool runs it). */
  bare: string;
  iterations: number;
  /** Untimed handler + bare pairs first (the timed pairs get 50 more each). */
  warmup: number;
  /** Pairs for the floor (bare query + the stack's Redis pipeline, concurrently). */
  floorIterations: number;
}

/** Durations in ms, as `timePair` returns them. */
export interface InstanceSamples {
  handler: number[];
  bare: number[];
  /** The bare query with the stack's Redis pipeline sent concurrently, nothing else. */
  floor: number[];
  /** The bare query, alternating with `floor`. */
  floorBare: number[];
  /** The instance process's CPU time per call (user + system, ms), each measured alone. */
  cpu: { handler: number; bare: number; floor: number };
}

/**
 * Times `spec` in a fresh process that plays one Lambda instance (`instance-process.ts`):
 * the route's handler called directly, one invocation at a time, against its bare query on
 * the same pool, then the floor. The environment is the bench's (the functions' variables)
 * without `AWS_LAMBDA_MAX_CONCURRENCY`, which the local invoker sets for the bench's own
 * concurrent invocations. Errors: the child's (a non-200 answer, no rate-limit headers).
 */
export async function measureInInstance(spec: InstanceSpec): Promise<InstanceSamples> {
  const { AWS_LAMBDA_MAX_CONCURRENCY: _, ...env } = process.env;
  // A file, not a variable: the callers' tokens outgrow one environment string (128 KiB).
  const dir = mkdtempSync(join(tmpdir(), 'bench-instance-'));
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify(spec));
  try {
    const child = await startChild<InstanceSamples>(
      './instance-process.ts',
      { ...env, BENCH_INSTANCE_FILE: file },
      600_000,
    );
    await child.stop();
    return child.ready;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The instance's CPU per call as one bench line: the handler, the floor and the bare query
 * (ms of user + system time of the instance process), and the handler's ratio to the bare.
 */
export function cpuLine(cpu: InstanceSamples['cpu']): string {
  return `    CPU of the instance per call: handler ${cpu.handler.toFixed(3)} ms, floor ${cpu.floor.toFixed(3)} ms, bare ${cpu.bare.toFixed(3)} ms (handler ÷ bare ${(cpu.handler / cpu.bare).toFixed(2)}×)`;
}
