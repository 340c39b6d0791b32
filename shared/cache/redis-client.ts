import { type RestEndpoint, RestError, type RestPost, restRequester } from './rest-requester.js';

/** A Redis command as the Upstash REST protocol takes it: its name, then its arguments. */
export type RedisCommand = readonly (string | number)[];

/** A Redis reply in JSON: strings (UTF-8), integers, nil as null, arrays of replies. */
export type RedisReply = string | number | null | RedisReply[];

/** One command's answer in a pipeline: its reply, or Redis' error text. */
export type PipelineAnswer = { result: RedisReply; error?: undefined } | { error: string };

/** Redis refused a command (its error text, e.g. `NOSCRIPT …`, `WRONGTYPE …`, `CROSSSLOT …`). */
export class RedisCommandError extends Error {
  override name = 'RedisCommandError';
}

/**
 * A Redis client over the Upstash REST protocol (Upstash docs, "REST API"): `POST /` with one
 * command as a JSON array answers `{result}` or `{error}`; `POST /pipeline` with a list of
 * commands answers one of those per command, in order. Replies are what the protocol gives
 * without `Upstash-Encoding`: strings as UTF-8, never deserialised.
 *
 * Why not `@upstash/redis`: its entry point exports the whole client, whose methods name all
 * its ~300 command classes, so it cannot be tree-shaken: 78.5 KiB of the 276 KiB `notes/get`
 * bundle, which the stack uses for six commands. Measured with the bench's cold-load probe
 * (21 interleaved pairs of fresh processes), the same bundle without it loads in 42.1 ms
 * instead of 52.4 ms (the reference: 18.4 ms). The local and ElastiCache bridges still speak
 * the full protocol; the tests check them with `@upstash/redis` itself.
 *
 * Errors (every method): `RedisCommandError` when Redis refuses the command; the transport's
 * `RestError`, `RestJsonError`, `RestTimeout` and socket errors (`rest-requester.ts`).
 */
export class RedisClient {
  private readonly post: RestPost;

  constructor(endpoint: RestEndpoint | RestPost) {
    this.post = typeof endpoint === 'function' ? endpoint : restRequester(endpoint);
  }

  /** Runs one command; resolves to its reply. */
  async command<T extends RedisReply = RedisReply>(command: RedisCommand): Promise<T> {
    let answer: PipelineAnswer;
    try {
      answer = await this.post<PipelineAnswer>('/', command);
    } catch (error) {
      // The protocol answers a refused command with 400 and `{error}`.
      if (error instanceof RestError && error.status === 400) {
        throw new RedisCommandError(error.message);
      }
      throw error;
    }
    if (answer.error !== undefined) throw new RedisCommandError(answer.error);
    return answer.result as T;
  }

  /**
   * Runs `commands` in one request, in order; resolves to one answer per command (an error
   * refuses that command only: a pipeline is not a transaction). Each command's keys must
   * share a hash slot on a cluster; different commands may be on different nodes.
   */
  async pipeline(commands: readonly RedisCommand[]): Promise<PipelineAnswer[]> {
    const answers = await this.post<PipelineAnswer[]>('/pipeline', commands);
    if (!Array.isArray(answers) || answers.length !== commands.length) {
      throw new RedisCommandError(`a pipeline of ${commands.length} got a malformed answer`);
    }
    return answers;
  }

  /** `GET key`: the value, or null when there is none. */
  get(key: string): Promise<string | null> {
    return this.command<string | null>(['GET', key]);
  }

  /** `SET key value [EX seconds]`: `OK`. */
  set(key: string, value: string, options?: { ex: number }): Promise<string> {
    return this.command<string>(
      options ? ['SET', key, value, 'EX', options.ex] : ['SET', key, value],
    );
  }

  /** `EXISTS key`: 1 when the key exists, else 0. */
  exists(key: string): Promise<number> {
    return this.command<number>(['EXISTS', key]);
  }

  /** `PING`: `PONG`. */
  ping(): Promise<string> {
    return this.command<string>(['PING']);
  }

  /** `EVALSHA sha numkeys keys… args…` (Redis docs, "Scripting with Lua"). */
  evalsha<T extends RedisReply>(sha: string, keys: readonly string[], args: readonly string[]) {
    return this.command<T>(evalCommand('EVALSHA', sha, keys, args));
  }

  /** `EVAL script numkeys keys… args…`: also loads the script into the server's cache. */
  eval<T extends RedisReply>(script: string, keys: readonly string[], args: readonly string[]) {
    return this.command<T>(evalCommand('EVAL', script, keys, args));
  }
}

/** `EVAL`/`EVALSHA` with its keys and arguments, as the command takes them. */
export function evalCommand(
  name: 'EVAL' | 'EVALSHA',
  scriptOrSha: string,
  keys: readonly string[],
  args: readonly string[],
): RedisCommand {
  return [name, scriptOrSha, keys.length, ...keys, ...args];
}
