import { randomUUID } from 'node:crypto';
import { Redis } from '@upstash/redis';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evalCommand, RedisClient, RedisCommandError } from '../../shared/cache/redis-client.js';
import { RestError } from '../../shared/cache/rest-requester.js';
import { fuzzRuns } from './middleware/harness.js';

// The suite's REST bridge in front of its redis-server (tests/setup).
const endpoint = {
  url: process.env.REDIS_REST_URL as string,
  token: process.env.REDIS_REST_TOKEN as string,
  timeoutMs: 2000,
};
const redis = new RedisClient(endpoint);
/** The package whose protocol the client speaks, as a reference for the same calls. */
const upstash = new Redis({
  url: endpoint.url,
  token: endpoint.token,
  enableTelemetry: false,
  automaticDeserialization: false,
});

describe('RedisClient (the Upstash REST protocol)', () => {
  it('stores and reads any string as it was, and agrees with @upstash/redis on it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (value) => {
        const key = `client-${randomUUID()}`;
        expect(await redis.set(key, value, { ex: 60 })).toBe('OK');
        expect(await redis.get(key)).toBe(value);
        // The package that defines the protocol's client side reads the same string.
        expect(await upstash.get<string>(key)).toBe(value);
        expect(await redis.command(['STRLEN', key])).toBe(Buffer.byteLength(value));
      }),
      { numRuns: fuzzRuns(40) },
    );
  });

  it('answers nil as null, integers as numbers and arrays as arrays', async () => {
    const key = `client-${randomUUID()}`;
    expect(await redis.get(key)).toBeNull();
    expect(await redis.exists(key)).toBe(0);
    expect(await redis.command(['INCRBY', key, 5])).toBe(5);
    expect(await redis.exists(key)).toBe(1);
    expect(await redis.command(['MGET', key, `${key}-absent`])).toEqual(['5', null]);
    expect(await redis.ping()).toBe('PONG');
  });

  it('sets the expiry that EX asks for', async () => {
    const key = `client-${randomUUID()}`;
    await redis.set(key, 'v', { ex: 30 });
    const ttl = await redis.command<number>(['TTL', key]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
  });

  it('throws RedisCommandError with Redis’ text for a refused command', async () => {
    const key = `client-${randomUUID()}`;
    await redis.set(key, 'not a number');
    await expect(redis.command(['INCR', key])).rejects.toBeInstanceOf(RedisCommandError);
    await expect(redis.command(['INCR', key])).rejects.toThrow(/not an integer/);
    await expect(redis.evalsha('0'.repeat(40), [key], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it('answers a pipeline command by command, in order, an error refusing only its own', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant('number'), fc.constant('text')), {
          minLength: 1,
          maxLength: 15,
        }),
        async (kinds) => {
          const keys = kinds.map((kind) => `client-${kind}-${randomUUID()}`);
          await Promise.all(
            keys.map((key, i) => redis.set(key, kinds[i] === 'number' ? '41' : 'x', { ex: 60 })),
          );
          const answers = await redis.pipeline(keys.map((key) => ['INCR', key]));
          answers.forEach((answer, i) => {
            if (kinds[i] === 'number') expect(answer).toEqual({ result: 42 });
            else expect(answer.error).toMatch(/not an integer/);
          });
        },
      ),
      { numRuns: fuzzRuns(20) },
    );
  });

  it('runs Lua scripts with their keys and arguments (EVAL, then EVALSHA by its SHA-1)', async () => {
    const script = `return {KEYS[1], ARGV[1], ARGV[2], '${randomUUID()}'}`;
    const sha = await redis.command<string>(['SCRIPT', 'LOAD', script]);
    const key = `client-${randomUUID()}`;
    const viaEval = await redis.eval<string[]>(script, [key], ['a', 'b c']);
    expect(viaEval.slice(0, 3)).toEqual([key, 'a', 'b c']);
    expect(await redis.evalsha<string[]>(sha, [key], ['a', 'b c'])).toEqual(viaEval);
    expect(evalCommand('EVALSHA', sha, [key, 'k2'], ['x'])).toEqual([
      'EVALSHA',
      sha,
      2,
      key,
      'k2',
      'x',
    ]);
  });

  it('lets the transport’s errors through: a wrong token is a RestError 401', async () => {
    const wrong = new RedisClient({ ...endpoint, token: 'wrong' });
    await expect(wrong.ping()).rejects.toBeInstanceOf(RestError);
    await expect(wrong.ping()).rejects.toMatchObject({ status: 401 });
  });
});
