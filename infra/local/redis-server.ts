import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort, reapOnExit } from './postgres.js';

export interface LocalRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, as after an outage (data is not kept). */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
}

/** True when the `redis-server` binary (Debian package `redis-server`) is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** How to get Redis when `hasRedisServer()` is false: the Debian package, or `REDIS_URL`. */
export const REDIS_SERVER_HINT =
  'install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL=redis://… to a Redis you run';

/**
 * Starts a throw-away `redis-server` on 127.0.0.1 (a free port unless given) with no
 * persistence (`--save ""`, no AOF), and waits until it accepts connections. The server
 * never outlives this process (killed at exit, signals included: `reapOnExit`). When the
 * port it picked was taken meanwhile, it tries another (3 tries).
 * Errors: the binary is missing, the port is taken, or it does not start within 10 s.
 */
export async function startRedisServer(options: { port?: number } = {}): Promise<LocalRedis> {
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let unregisterChild = () => {};

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = proc;
      let output = '';
      // Never outlive the process that started it (dev stopped with Ctrl-C, a test run ending).
      const unregister = reapOnExit(() => proc.kill('SIGKILL'));
      unregisterChild = unregister;
      proc.once('exit', unregister);
      const timer = setTimeout(
        () => reject(new Error('redis-server did not start in 10 s')),
        10_000,
      );
      proc.stderr?.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-2000);
      });
      proc.stdout?.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-2000);
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        const inUse = output.includes('Address already in use');
        reject(
          Object.assign(
            new Error(
              inUse
                ? `redis-server could not listen on port ${port}: it is in use`
                : `redis-server exited with code ${code}${lastLine(output)}`,
            ),
            inUse ? { code: 'EADDRINUSE', port } : {},
          ),
        );
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null) return resolve();
      proc.removeAllListeners('exit');
      proc.once('exit', () => {
        unregisterChild();
        resolve();
      });
      proc.kill('SIGTERM');
    });

  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!taken || options.port || attempt === 3) throw error;
      port = await freePort();
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    restart: start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
}

/** `: <the last non-empty line of output>`, or nothing. */
function lastLine(output: string): string {
  const line = output.trim().split('\n').pop()?.trim();
  return line ? `: ${line}` : '';
}
