import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createTemporaryDir, freePort, reapOnExit } from '../../infra/local/postgres.js';

/** Hash slots of a Redis Cluster (Redis Cluster specification, "Key distribution model"). */
const SLOTS = 16384;

export interface RedisClusterNode {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The first and last hash slot this node serves (inclusive). */
  slots: [first: number, last: number];
}

export interface LocalRedisCluster {
  /** The primaries, in slot order: node i serves the i-th equal share of the 16,384 slots. */
  nodes: RedisClusterNode[];
  /** Index in `nodes` of the node that serves `key` (its hash slot from `CLUSTER KEYSLOT`). */
  nodeOf(key: string): Promise<number>;
  /**
   * How many keys the node serving `key` holds in `key`'s hash slot (`CLUSTER
   * COUNTKEYSINSLOT`): e.g. `{tag}` counts every key of the hash tag `{tag}`.
   */
  keysInSlotOf(key: string): Promise<number>;
  /** Stops every server (SIGTERM, SIGKILL after 5 s), waits for them, removes the folder. */
  stop(): Promise<void>;
}

/** A throw-away `redis-server` child, by the function that stops it. */
interface NodeProcess {
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster of `size` primaries (default 3, no replicas) on 127.0.0.1, like
 * ElastiCache Serverless a cluster in which every multi-key command, transaction and script
 * must keep its keys in one hash slot: one `redis-server --cluster-enabled yes` per node,
 * each on free client and bus ports, with its `nodes.conf` in a temporary folder and no
 * persistence (`--save ''`, no AOF). Gives node i one contiguous share of the slots
 * (`CLUSTER ADDSLOTSRANGE`), joins them (`CLUSTER MEET`) and waits until every node reports
 * `cluster_state:ok` with all slots served and all nodes known. Nothing outlives the
 * process (each server and the folder are reaped at exit, signals included).
 * Errors: a server does not start, or the cluster is not ok within `timeoutMs` (default
 * 10 s); what was started is stopped first.
 */
export async function startRedisCluster(
  options: { size?: number; timeoutMs?: number } = {},
): Promise<LocalRedisCluster> {
  const size = options.size ?? 3;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const dir = await createTemporaryDir('redis-cluster-');
  const processes: NodeProcess[] = [];
  const admins: Redis[] = [];
  const stop = async () => {
    for (const admin of admins) admin.disconnect();
    await Promise.all(processes.map((node) => node.stop()));
    dir.remove();
  };
  try {
    const nodes: RedisClusterNode[] = [];
    const used = new Set<number>();
    for (let i = 0; i < size; i++) {
      const { port, busPort, process } = await startNodeOnFreePorts(dir.path, used, deadline);
      processes.push(process);
      const first = Math.floor((i * SLOTS) / size);
      const last = Math.floor(((i + 1) * SLOTS) / size) - 1;
      nodes.push({ url: `redis://127.0.0.1:${port}`, port, slots: [first, last] });
      const admin = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
      admins.push(admin);
      // Distinct epochs up front, as `redis-cli --cluster create` does, so no node has to win
      // a collision before the slots settle.
      await admin.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
      if (i > 0) {
        await (admins[0] as Redis).call(
          'CLUSTER',
          'MEET',
          '127.0.0.1',
          String(port),
          String(busPort),
        );
      }
    }
    await waitUntilOk(admins, deadline);
    const locate = async (key: string) => {
      const slot = Number(await (admins[0] as Redis).call('CLUSTER', 'KEYSLOT', key));
      const node = nodes.findIndex(({ slots: [first, last] }) => slot >= first && slot <= last);
      return { slot: String(slot), node };
    };
    return {
      nodes,
      nodeOf: async (key) => (await locate(key)).node,
      keysInSlotOf: async (key) => {
        const { slot, node } = await locate(key);
        return Number(await (admins[node] as Redis).call('CLUSTER', 'COUNTKEYSINSLOT', slot));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A free port not in `used` (the OS may hand the same free port out twice in a row). */
async function uniquePort(used: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!used.has(port)) {
      used.add(port);
      return port;
    }
  }
}

/**
 * `startNode` on a free client port and a free bus port, again on other ports (3 tries in
 * all) when one was taken between the choice and the start.
 */
async function startNodeOnFreePorts(dir: string, used: Set<number>, deadline: number) {
  for (let attempt = 1; ; attempt++) {
    const [port, busPort] = [await uniquePort(used), await uniquePort(used)];
    try {
      return { port, busPort, process: await startNode(dir, port, busPort, deadline) };
    } catch (error) {
      const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!taken || attempt === 3) throw error;
    }
  }
}

/** Starts one cluster-enabled `redis-server` and waits until it accepts connections. */
function startNode(
  dir: string,
  port: number,
  busPort: number,
  deadline: number,
): Promise<NodeProcess> {
  const flags = {
    port: String(port),
    bind: '127.0.0.1',
    'cluster-enabled': 'yes',
    'cluster-port': String(busPort),
    'cluster-config-file': join(dir, `nodes-${port}.conf`),
    dir,
    save: '',
    appendonly: 'no',
  };
  const args = Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value]);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = reapOnExit(() => child.kill('SIGKILL'));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  void exited.then(unregister);
  const stop = async () => {
    // Never started (no binary), or already gone.
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const settle = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', collect);
      child.stderr?.off('data', collect);
      child.off('error', settle);
      child.off('exit', exitedEarly);
      if (!error) return resolve({ stop });
      void stop().then(() => reject(error));
    };
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2000);
      if (output.includes('Ready to accept connections')) settle();
    };
    const exitedEarly = (code: number | null) => {
      const error = new Error(`redis-server on port ${port} exited with ${code}${tail(output)}`);
      const taken = output.includes('Address already in use');
      settle(taken ? Object.assign(error, { code: 'EADDRINUSE' }) : error);
    };
    const timer = setTimeout(
      () => settle(new Error(`redis-server on port ${port} did not start in time${tail(output)}`)),
      Math.max(0, deadline - Date.now()),
    );
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', settle);
    child.once('exit', exitedEarly);
  });
}

/**
 * Polls `CLUSTER INFO` on every node until each one says `cluster_state:ok`, serves all
 * slots and knows every node, or throws at `deadline`.
 */
async function waitUntilOk(admins: Redis[], deadline: number): Promise<void> {
  let last = '';
  for (;;) {
    const infos = await Promise.all(
      admins.map(async (admin) => String(await admin.call('CLUSTER', 'INFO'))),
    );
    const ready = infos.every(
      (info) =>
        info.includes('cluster_state:ok') &&
        info.includes(`cluster_slots_ok:${SLOTS}`) &&
        info.includes(`cluster_known_nodes:${admins.length}`),
    );
    if (ready) return;
    last = infos.find((info) => !info.includes('cluster_state:ok')) ?? infos[0] ?? '';
    if (Date.now() >= deadline) {
      throw new Error(`the Redis Cluster was not ok in time: ${last.split('\r\n', 3).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `: <the last non-empty line of output>`, or nothing. */
function tail(output: string): string {
  const line = output.trim().split('\n').pop()?.trim();
  return line ? `: ${line}` : '';
}
