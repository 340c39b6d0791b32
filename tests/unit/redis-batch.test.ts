import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RedisUnavailable, withRedis } from '../../shared/cache/redis.js';
import { RedisBatch, scriptSha } from '../../shared/cache/redis-batch.js';
import { untilRedisAnswers, usePrivateRedis } from '../helpers/private-redis.js';
import { fuzzRuns } from './middleware/harness.js';

// Its own redis-server: these tests flush its scripts, stop it and freeze it.
const { server, requests: bridgeRequests } = await usePrivateRedis();
const { getConfig } = await import('../../shared/config.js');
/** Failures in a row that open the circuit breaker (3 by default). */
const failuresToOpen = getConfig().REDIS_FAILURES_TO_OPEN;

/** A script that returns its first key's name and its first argument, unknown to Redis until run. */
const freshScript = () => `return {KEYS[1], ARGV[1], '${randomUUID()}'}`;

/** Watches the HTTP requests the bridge receives from now on: the path of each, and its JSON body. */
function watchBridge() {
  const start = bridgeRequests.length;
  const requests = () =>
    bridgeRequests.slice(start).map(({ path, body }) => ({ path, commands: body as unknown[][] }));
  return { requests };
}

describe('RedisBatch', () => {
  it('sends any number of queued commands as ONE pipeline request, and answers each in order', async () => {
    const present = `present-${randomUUID()}`;
    await withRedis((redis) => redis.set(present, '1'));
    const script = freshScript();
    await withRedis((redis) => redis.command(['SCRIPT', 'LOAD', script]));
    /** `EXISTS` of a key that is there or not, or the script, which echoes its key and argument. */
    type Command =
      | { kind: 'exists'; key: string; found: number }
      | { kind: 'script'; key: string; arg: string };
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.constant<Command>({ kind: 'exists', key: present, found: 1 }),
      fc.uuid().map((id): Command => ({ kind: 'exists', key: `absent-${id}`, found: 0 })),
      fc
        .string({ unit: 'grapheme-ascii', maxLength: 10 })
        .map((arg): Command => ({ kind: 'script', key: `k-${arg}`, arg })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 20 }), async (commands) => {
        const { requests } = watchBridge();
        const batch = new RedisBatch();
        const answers = commands.map((c) =>
          c.kind === 'exists'
            ? batch.exists(c.key)
            : batch.script<string[]>(script, [c.key], [c.arg]),
        );
        expect(requests()).toEqual([]); // queued, not sent
        await batch.send();
        expect(requests().map((r) => r.path)).toEqual(['/pipeline']);
        expect(requests()[0]?.commands).toHaveLength(commands.length);
        const settled = await Promise.all(answers);
        commands.forEach((c, i) => {
          if (c.kind === 'exists') expect(settled[i]).toBe(c.found);
          else expect((settled[i] as string[]).slice(0, 2)).toEqual([c.key, c.arg]);
        });
      }),
      { numRuns: fuzzRuns(30) },
    );
  });

  it('sends once however often send() is called, nothing when nothing is queued, and refuses late commands', async () => {
    const { requests } = watchBridge();
    const empty = new RedisBatch();
    expect(empty.idle).toBe(true);
    await empty.send();
    expect(requests()).toEqual([]);
    const batch = new RedisBatch();
    const answer = batch.exists(`absent-${randomUUID()}`);
    expect(batch.idle).toBe(false);
    const first = batch.send();
    expect(batch.send()).toBe(first);
    await first;
    await batch.send();
    expect(batch.idle).toBe(true);
    await expect(answer).resolves.toBe(0);
    expect(requests()).toHaveLength(1);
    expect(() => batch.exists('late')).toThrow(/queued after send/);
  });

  it('names scripts by their SHA-1, as EVALSHA does', async () => {
    const script = freshScript();
    expect(scriptSha(script)).toBe(
      await withRedis((redis) => redis.command(['SCRIPT', 'LOAD', script])),
    );
  });

  it('sends a script Redis does not know (NOSCRIPT) again with its text, once, in a second pipeline', async () => {
    await withRedis((redis) => redis.command(['SCRIPT', 'FLUSH']));
    const script = freshScript();
    const { requests } = watchBridge();
    const batch = new RedisBatch();
    const before = batch.exists(`absent-${randomUUID()}`);
    const result = batch.script<string[]>(script, ['{t}:a'], ['x']);
    const after = batch.exists(`absent-${randomUUID()}`);
    await batch.send();
    expect((await result).slice(0, 2)).toEqual(['{t}:a', 'x']);
    expect([await before, await after]).toEqual([0, 0]);
    const sent = requests();
    expect(sent.map((r) => r.path)).toEqual(['/pipeline', '/pipeline']);
    expect(sent[0]?.commands.map((c) => String(c[0]).toLowerCase())).toEqual([
      'exists',
      'evalsha',
      'exists',
    ]);
    // Only the script goes again, by its text; the others were answered the first time.
    expect(sent[1]?.commands).toEqual([['EVAL', script, 1, '{t}:a', 'x']]);
    // EVAL loaded it: the next batch needs one request again.
    const again = new RedisBatch();
    const second = again.script<string[]>(script, ['{t}:b'], ['y']);
    await again.send();
    expect((await second).slice(0, 2)).toEqual(['{t}:b', 'y']);
    expect(requests()).toHaveLength(3);
  });

  it('answers a command Redis refuses with RedisUnavailable (as withRedis does), and skips Redis after REDIS_FAILURES_TO_OPEN in a row', async () => {
    const text = `text-${randomUUID()}`;
    await withRedis((redis) => redis.set(text, 'not a number'));
    try {
      for (let failure = 1; failure <= failuresToOpen; failure++) {
        const { requests } = watchBridge();
        const batch = new RedisBatch();
        const incr = batch.script(`return redis.call('INCR', KEYS[1])`, [text], []);
        const other = batch.exists(`absent-${randomUUID()}`);
        await batch.send();
        await expect(incr).rejects.toBeInstanceOf(RedisUnavailable);
        // Answered in the same pipeline, before the failure was seen: it keeps its answer.
        await expect(other).resolves.toBe(0);
        // One pipeline, and the first time a second one for the script's text (NOSCRIPT).
        expect(requests().length).toBeGreaterThanOrEqual(1);
      }
      const { requests } = watchBridge();
      const next = new RedisBatch();
      const skipped = next.exists(`absent-${randomUUID()}`);
      await next.send();
      await expect(skipped).rejects.toBeInstanceOf(RedisUnavailable);
      expect(requests()).toEqual([]);
    } finally {
      await untilRedisAnswers();
    }
  });

  it('fails every command with RedisUnavailable when Redis is down, then skips it without a request', async () => {
    await server.stop();
    try {
      const { requests } = watchBridge();
      for (let failure = 1; failure <= failuresToOpen; failure++) {
        const batch = new RedisBatch();
        const answers = [
          batch.exists(`a-${randomUUID()}`),
          batch.script(freshScript(), ['{t}:k'], ['1']),
          batch.exists(`b-${randomUUID()}`),
        ];
        await batch.send(); // never rejects
        for (const answer of answers) await expect(answer).rejects.toBeInstanceOf(RedisUnavailable);
        expect(requests()).toHaveLength(failure);
      }
      // The circuit is open: the next request's commands fail at once, with no request sent.
      const next = new RedisBatch();
      const skipped = next.exists(`c-${randomUUID()}`);
      await next.send();
      await expect(skipped).rejects.toBeInstanceOf(RedisUnavailable);
      expect(requests()).toHaveLength(failuresToOpen);
    } finally {
      await server.restart();
      await untilRedisAnswers();
    }
  });

  it('does not open the circuit for failures that a success interrupts (one slow call costs only its request)', async () => {
    const text = `text-${randomUUID()}`;
    await withRedis((redis) => redis.set(text, 'not a number'));
    const incr = `return redis.call('INCR', KEYS[1])`;
    await withRedis((redis) => redis.command(['SCRIPT', 'LOAD', incr]));
    const { requests } = watchBridge();
    for (let round = 0; round < 3; round++) {
      for (let failure = 1; failure < failuresToOpen; failure++) {
        const batch = new RedisBatch();
        const refused = batch.script(incr, [text], []);
        await batch.send();
        await expect(refused).rejects.toBeInstanceOf(RedisUnavailable);
      }
      // Still closed: this request reaches Redis, and its success resets the count.
      const batch = new RedisBatch();
      const answer = batch.exists(`absent-${randomUUID()}`);
      await batch.send();
      await expect(answer).resolves.toBe(0);
    }
    expect(requests()).toHaveLength(3 * failuresToOpen);
  });

  it('fails every command with RedisUnavailable when Redis hangs (the request timeout), and recovers', async () => {
    server.pause();
    try {
      const batch = new RedisBatch();
      const answers = [
        batch.exists(`a-${randomUUID()}`),
        batch.script(freshScript(), ['{t}:k'], []),
      ];
      await batch.send();
      for (const answer of answers) await expect(answer).rejects.toBeInstanceOf(RedisUnavailable);
    } finally {
      server.resume();
      await untilRedisAnswers();
    }
  });
});
