import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cluster, Redis } from 'ioredis';

type Command = (string | number | boolean)[];
type Reply = Buffer | string | number | null | Reply[];

/**
 * Turns a RESP2 reply (as ioredis' `callBuffer` returns it) into Upstash REST JSON: bulk and
 * status strings as base64 when `base64`, else UTF-8; integers and nulls untouched; arrays
 * stay flat (so HGETALL is `[field, value, …]`, as RESP2 sends it).
 */
function encodeReply(reply: Reply, base64: boolean): unknown {
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString('base64') : reply.toString('utf8');
  if (typeof reply === 'string') return base64 ? Buffer.from(reply).toString('base64') : reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  return reply;
}

function isCommand(value: unknown): value is Command {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((part) => ['string', 'number', 'boolean'].includes(typeof part))
  );
}

function readJson(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

export interface UpstashBridge {
  /** Base URL for `new Redis({ url, token })` from `@upstash/redis`. */
  url: string;
  token: string;
  close(): Promise<void>;
}

/** The Redis behind the bridge: one server, or a Redis Cluster found from its seed nodes. */
export type BridgeTarget =
  | { redisUrl: string }
  /** `redis://host:port` of one or more nodes of a Redis Cluster (a local test cluster). */
  | { clusterNodes: readonly string[] };

/**
 * A small HTTP server that speaks the Upstash Redis REST protocol in front of a real Redis
 * (Redis OSS / Valkey / ElastiCache), so `@upstash/redis` runs unchanged against it:
 * - `POST /` with `["CMD", …args]` → `{result}`, or 400 `{error}` with Redis' error text;
 * - `POST /pipeline` with `[[…], …]` → `[{result} | {error}, …]`;
 * - `POST /multi-exec` with `[[…], …]` → the same, run in MULTI/EXEC;
 * - `Authorization: Bearer <token>` required (401 otherwise);
 * - `Upstash-Encoding: base64` → string results base64-encoded.
 * When Redis is down, commands fail fast (no offline queue) with 503 `{error}`; ioredis
 * reconnects in the background, so the bridge recovers by itself.
 *
 * With `clusterNodes` it fronts a Redis Cluster the way ElastiCache Serverless' endpoint
 * behaves: each command (and each command of a pipeline, which is not atomic) goes to the
 * node of its first key, a script's included (`EVAL`/`EVALSHA` name theirs in `KEYS`); a
 * command, script or transaction whose keys are in more than one hash slot answers 400
 * `{error: "CROSSSLOT …"}` (Redis Cluster specification, "Keys hash tags"); `SCRIPT
 * LOAD`/`FLUSH`/`EXISTS`, `FLUSHDB` and `FLUSHALL` run on every primary.
 */
export async function startUpstashBridge(
  options: BridgeTarget & {
    port?: number;
    token?: string;
    /** Told of every authorised request (its path and parsed JSON body): for tests. */
    onRequest?: (path: string, body: unknown) => void;
  },
): Promise<UpstashBridge> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const redis =
    'redisUrl' in options
      ? new Redis(options.redisUrl, {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: 1000,
          retryStrategy: () => 200,
          lazyConnect: false,
        })
      : connectCluster(options.clusterNodes);
  redis.on('error', () => {}); // reported per command; reconnects on its own
  // Wait (briefly) for the first connection so the first commands do not fail for nothing.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });

  // Upper-case names: ioredis reshapes some replies by lower-case name (HGETALL → object);
  // the REST protocol wants the raw RESP2 reply.
  const name = (command: Command) => String(command[0]).toUpperCase();
  const args = (command: Command) => command.slice(1).map(String);
  const run = (command: Command): Promise<Reply> => {
    if (redis instanceof Cluster && onEveryPrimary(command)) {
      return runOnEveryPrimary(redis, name(command), args(command));
    }
    return redis.callBuffer(name(command), ...args(command)) as Promise<Reply>;
  };
  const runBatch = async (commands: Command[], transaction: boolean) => {
    if (redis instanceof Cluster && !transaction) return runEach(commands, run);
    const batch = transaction ? redis.multi() : redis.pipeline();
    for (const command of commands) batch.callBuffer(name(command), ...args(command));
    try {
      return await batch.exec();
    } catch (error) {
      // ioredis refuses, before sending, a cluster transaction whose keys span slots (of
      // different nodes); Redis Cluster answers the same request with CROSSSLOT.
      if (redis instanceof Cluster && IOREDIS_CROSS_SLOT.test((error as Error).message)) {
        throw Object.assign(new Error(CROSS_SLOT), { name: 'ReplyError' });
      }
      throw error;
    }
  };

  const server = createServer(async (request, response) => {
    if (request.method !== 'POST') return send(response, 405, { error: 'Use POST.' });
    if (request.headers.authorization !== `Bearer ${token}`) {
      return send(response, 401, { error: 'Unauthorized' });
    }
    const base64 = String(request.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    let body: unknown;
    try {
      body = await readJson(request);
    } catch {
      return send(response, 400, { error: 'ERR the body is not valid JSON' });
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    options.onRequest?.(path, body);
    try {
      if (path === '/' || path === '') {
        if (!isCommand(body))
          return send(response, 400, { error: 'ERR expected ["COMMAND", ...args]' });
        try {
          return send(response, 200, { result: encodeReply(await run(body), base64) });
        } catch (error) {
          if (isReplyError(error)) return send(response, 400, { error: (error as Error).message });
          throw error;
        }
      }
      if (path === '/pipeline' || path === '/multi-exec') {
        if (!Array.isArray(body) || !body.every(isCommand)) {
          return send(response, 400, { error: 'ERR expected [["COMMAND", ...args], ...]' });
        }
        const results = await runBatch(body as Command[], path === '/multi-exec');
        if (!results) return send(response, 400, { error: 'EXECABORT Transaction discarded' });
        return send(
          response,
          200,
          results.map(([error, reply]) =>
            error ? { error: error.message } : { result: encodeReply(reply as Reply, base64) },
          ),
        );
      }
      return send(response, 404, { error: 'Not found' });
    } catch (error) {
      if (isReplyError(error)) return send(response, 400, { error: (error as Error).message });
      return send(response, 503, { error: `Redis unavailable: ${(error as Error).message}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}

function isReplyError(error: unknown): boolean {
  return (error as Error | null)?.name === 'ReplyError';
}

/** What Redis Cluster answers a request whose keys are in more than one hash slot. */
const CROSS_SLOT = "CROSSSLOT Keys in request don't hash to the same slot";
/** ioredis' own refusals of such a transaction (`Pipeline.exec` in cluster mode). */
const IOREDIS_CROSS_SLOT =
  /^All (the )?keys in (a|the) pipeline (command )?should belong to the same slot/;

/**
 * A client for the Redis Cluster that `seeds` (`redis://host:port`) belong to, with the
 * single server's settings: no offline queue, no retries of a failed command, 1 s to
 * connect, reconnect every 200 ms. Redirections (`MOVED`, `ASK`) are followed as usual.
 * Errors: a seed that is not `redis://host:port` (no TLS or credentials: local clusters).
 */
function connectCluster(seeds: readonly string[]): Cluster {
  if (!seeds.length) throw new Error('clusterNodes: give at least one node');
  const nodes = seeds.map((seed) => {
    const url = new URL(seed);
    if (url.protocol !== 'redis:' || url.username || url.password || !url.port) {
      throw new Error(`clusterNodes: expected redis://host:port, got ${seed}`);
    }
    return { host: url.hostname, port: Number(url.port) };
  });
  return new Cluster(nodes, {
    enableOfflineQueue: false,
    clusterRetryStrategy: () => 200,
    redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 1000 },
  });
}

/** Keyless commands about every node's state, which a cluster must run on every primary. */
function onEveryPrimary(command: Command): boolean {
  const [name, subcommand] = command.map((part) => String(part).toUpperCase());
  if (name === 'FLUSHDB' || name === 'FLUSHALL') return true;
  return name === 'SCRIPT' && ['LOAD', 'FLUSH', 'EXISTS'].includes(subcommand ?? '');
}

/**
 * Runs a command of `onEveryPrimary` on each primary of `cluster`. The reply is the first
 * primary's (all answer alike: the same SHA-1, `OK`), except `SCRIPT EXISTS`, which says 1
 * for a script only when every primary has it.
 */
async function runOnEveryPrimary(cluster: Cluster, name: string, args: string[]): Promise<Reply> {
  const replies = await Promise.all(
    cluster.nodes('master').map((node) => node.callBuffer(name, ...args) as Promise<Reply>),
  );
  if (name === 'SCRIPT' && args[0]?.toUpperCase() === 'EXISTS') {
    const each = replies as number[][];
    return (each[0] ?? []).map((_, i) => (each.every((reply) => reply[i] === 1) ? 1 : 0));
  }
  return replies[0] ?? null;
}

/**
 * A pipeline on a cluster: each command sent alone to its own node, all at once and in
 * order (so in order per node, hence per key), replies in `exec()`'s `[error, reply]` form.
 * Errors: the first failure that is not a Redis error reply (an unreachable node).
 */
async function runEach(
  commands: Command[],
  run: (command: Command) => Promise<Reply>,
): Promise<[Error | null, Reply][]> {
  const settled = await Promise.allSettled(commands.map(run));
  return settled.map((outcome): [Error | null, Reply] => {
    if (outcome.status === 'fulfilled') return [null, outcome.value];
    if (isReplyError(outcome.reason)) return [outcome.reason as Error, null];
    throw outcome.reason;
  });
}
