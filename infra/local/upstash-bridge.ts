import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';

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
 */
export async function startUpstashBridge(options: {
  redisUrl: string;
  port?: number;
  token?: string;
}): Promise<UpstashBridge> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const redis = new Redis(options.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => 200,
    lazyConnect: false,
  });
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
  const run = (command: Command) =>
    redis.callBuffer(name(command), ...args(command)) as Promise<Reply>;

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
    const path = (request.url ?? '/').split('?')[0];
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
        const commands = body as Command[];
        const batch = path === '/multi-exec' ? redis.multi() : redis.pipeline();
        for (const command of commands)
          batch.callBuffer(String(command[0]), ...command.slice(1).map(String));
        const results = await batch.exec();
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
