import { createHash } from 'node:crypto';
import { traced } from '../observability.js';
import { RedisUnavailable, withRedis } from './redis.js';
import { evalCommand, type RedisClient, type RedisCommand } from './redis-client.js';

/** One queued command, and for scripts the same one with `EVAL` to send after NOSCRIPT. */
interface Entry {
  command: RedisCommand;
  /** For scripts: the same command with `EVAL` (script text) instead of `EVALSHA`. */
  fallback?: RedisCommand;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const SHA_OF = new Map<string, string>();
/** The SHA-1 digest `EVALSHA` names a script by (Redis docs, "Scripting with Lua"). */
export function scriptSha(script: string): string {
  let sha = SHA_OF.get(script);
  if (!sha) {
    sha = sha1(script);
    SHA_OF.set(script, sha);
  }
  return sha;
}

/**
 * Redis commands queued by several parts of one request and sent as ONE pipeline (one HTTP
 * round trip through the Upstash REST protocol's `/pipeline`), the rule of DESIGN.md § Redis:
 * the stack's own Redis work costs at most one round trip per request. Each command must
 * keep its keys in one hash slot (a shared `{tag}`), so the pipeline works on a Redis
 * Cluster: the commands of a pipeline are independent, only each command's keys must agree.
 *
 * `exists`/`script` return a promise of the command's reply, settled by `send()`, or
 * rejected with `RedisUnavailable` when Redis is not configured, down, slow or answers a
 * command with an error (the rules and circuit breaker of `withRedis`). A script unknown to the server (`NOSCRIPT`
 * after a restart or on a new node) is sent again with its text, once, in a second pipeline.
 * Commands queued after `send()` throw (a bug in the caller's order).
 */
export class RedisBatch {
  private readonly entries: Entry[] = [];
  private sending: Promise<void> | undefined;

  /** `EXISTS key`: 1 when the key exists, else 0. */
  exists(key: string): Promise<number> {
    return this.queue(['EXISTS', key]);
  }

  /** Runs `script` (Lua) with `keys` and `args` by `EVALSHA`, with `EVAL` on `NOSCRIPT`. */
  script<T>(script: string, keys: string[], args: string[]): Promise<T> {
    return this.queue(
      evalCommand('EVALSHA', scriptSha(script), keys, args),
      evalCommand('EVAL', script, keys, args),
    );
  }

  /** Whether nothing was queued, or `send()` has run. */
  get idle(): boolean {
    return this.entries.length === 0 || this.sending !== undefined;
  }

  /**
   * Sends everything queued in one pipeline (no-op when nothing is) and settles each
   * command's promise. Idempotent: later calls return the first call's promise. Never
   * rejects: failures settle the commands' promises.
   */
  send(): Promise<void> {
    this.sending ??= this.entries.length ? this.run() : Promise.resolve();
    return this.sending;
  }

  private queue<T>(command: RedisCommand, fallback?: RedisCommand): Promise<T> {
    if (this.sending) throw new Error('RedisBatch: a command was queued after send().');
    return new Promise<T>((resolve, reject) => {
      this.entries.push({
        command,
        fallback,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
    });
  }

  private async run(): Promise<void> {
    let retry: Entry[] = [];
    try {
      retry = await withRedis((redis) => this.exec(redis, this.entries, false));
      if (retry.length) await withRedis((redis) => this.exec(redis, retry, true));
    } catch (error) {
      // Every command still pending shares the outage (a settled promise ignores this).
      const reason =
        error instanceof RedisUnavailable ? error : new RedisUnavailable(String(error));
      for (const entry of this.entries) entry.reject(reason);
    }
  }

  /**
   * One pipeline of `entries` (a `Redis` subsegment when traced); returns the scripts
   * answered `NOSCRIPT` (when not `fallback`).
   */
  private async exec(redis: RedisClient, entries: Entry[], fallback: boolean): Promise<Entry[]> {
    const commands = entries.map((entry) =>
      fallback && entry.fallback ? entry.fallback : entry.command,
    );
    const replies = await traced('Redis', () => redis.pipeline(commands));
    const retry: Entry[] = [];
    let failure: string | undefined;
    replies.forEach((reply, i) => {
      const entry = entries[i] as Entry;
      if (reply.error === undefined) entry.resolve(reply.result);
      else if (!fallback && entry.fallback && reply.error.includes('NOSCRIPT')) retry.push(entry);
      else failure ??= reply.error;
    });
    // As for a single command (`withRedis`), any other error counts as Redis failing: the
    // bridge answers per command when it cannot reach Redis. The circuit opens, and every
    // command still pending gets `RedisUnavailable`.
    if (failure !== undefined) throw new Error(failure);
    return retry;
  }
}
