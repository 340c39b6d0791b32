import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { reapOnExit } from '../infra/local/postgres.js';

/**
 * Child processes of the bench: a TypeScript entry run by `node --import tsx`, talking to the
 * bench over Node's IPC channel. The child says when it is ready (with what the bench needs,
 * e.g. its URL) and answers CPU queries; it stops when asked or when the bench goes away.
 */

type ToChild = { type: 'cpu'; id: number } | { type: 'stop' };
type FromChild =
  | { type: 'ready'; value: unknown }
  | { type: 'failed'; message: string }
  | { type: 'cpu'; id: number; ms: number };

/** A running child of the bench (see `startChild`). */
export interface BenchChild<Ready> {
  pid: number;
  /** What the child sent when it was ready. */
  ready: Ready;
  /** CPU time the child has used so far, user + system over all its threads, in ms. */
  cpuMs(): Promise<number>;
  /** How many lines the child wrote to stdout and stderr since the last call, and the last 20. */
  takeOutput(): { count: number; last: string[] };
  /** Asks it to stop and waits for its exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx <entry>` (a path relative to this folder) with exactly `env`, and
 * resolves once the child called `serveParent` (with its ready value). The child never
 * outlives the bench (killed at exit, signals included: `reapOnExit`).
 * Errors: the child failed to start (its message, or its exit code and last output), or was
 * not ready within `timeoutMs`.
 */
export async function startChild<Ready>(
  entry: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<BenchChild<Ready>> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(entry, import.meta.url).pathname],
    { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  const unregister = reapOnExit(() => child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(unregister);

  let output: string[] = [];
  let count = 0;
  const collect = (chunk: Buffer) => {
    const lines = chunk.toString('utf8').split('\n').filter(Boolean);
    count += lines.length;
    output = [...output, ...lines].slice(-20);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const pending = new Map<number, (ms: number) => void>();
  let nextId = 0;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${entry} was not ready in ${timeoutMs} ms: ${output.slice(-5).join(' / ')}`),
      );
    }, timeoutMs);
    child.on('message', (message: FromChild) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.value as Ready);
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${entry} did not start: ${message.message}`));
      } else if (message.type === 'cpu') {
        pending.get(message.id)?.(message.ms);
        pending.delete(message.id);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited (${code}): ${output.slice(-5).join(' / ')}`));
    });
  });

  return {
    pid: child.pid as number,
    ready,
    cpuMs: () =>
      new Promise<number>((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        child.send({ type: 'cpu', id } satisfies ToChild);
      }),
    takeOutput: () => {
      const taken = { count, last: output };
      count = 0;
      output = [];
      return taken;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
      else child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    },
  };
}

/**
 * In a child started by `startChild`: runs `start`, sends its result to the bench as the ready
 * value (or the error, and exits 1), answers CPU queries with `process.cpuUsage()`, and runs
 * the returned stop function, then exits, when the bench asks or its channel closes (the
 * bench died).
 */
export async function serveParent<Ready>(
  start: () => Promise<{ ready: Ready; stop(): Promise<void> }>,
): Promise<void> {
  const send = (message: FromChild) => process.send?.(message);
  let started: { ready: Ready; stop(): Promise<void> };
  try {
    started = await start();
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await started.stop().catch((error) => console.error('while stopping:', error));
    process.exit(0);
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', id: message.id, ms: (user + system) / 1000 });
    } else if (message.type === 'stop') {
      void stop();
    }
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  send({ type: 'ready', value: started.ready });
}

/** Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU time a local process has used (user + system, `/proc/<pid>/stat` fields 14 and 15), in
 * ms at 10 ms resolution; null when there is no such process or no `/proc` (not Linux).
 */
export async function processCpuMs(pid: number): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!stat) return null;
  // "pid (comm) state ppid …": comm may hold spaces, so count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1000) / USER_HZ : null;
}

/** The Upstash REST endpoint of a bridge child: what the functions get as `REDIS_REST_*`. */
export interface BridgeEndpoint {
  url: string;
  token: string;
}

/** Starts `redis-bridge-process.ts`, the REST bridge in its own process, in front of `redisUrl`. */
export function startBridgeProcess(redisUrl: string): Promise<BenchChild<BridgeEndpoint>> {
  return startChild<BridgeEndpoint>('./redis-bridge-process.ts', {
    ...process.env,
    BENCH_REDIS_URL: redisUrl,
  });
}
