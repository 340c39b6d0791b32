import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRedis, startRedisServer } from '../../infra/local/redis-server.js';
import { startUpstashBridge, type UpstashBridge } from '../../infra/local/upstash-bridge.js';

let server: LocalRedis;
let bridge: UpstashBridge;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: server.url });
  redis = new Redis({ url: bridge.url, token: bridge.token, retry: false, enableTelemetry: false });
});
afterAll(async () => {
  await bridge.close();
  await server.stop();
});

async function raw(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${bridge.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bridge.token}`, ...headers },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: raw protocol replies of any shape
  return { status: response.status, body: (await response.json()) as any };
}

describe('Upstash REST bridge, driven by @upstash/redis', () => {
  it('strings, counters and TTLs', async () => {
    expect(await redis.set('greeting', 'héllo wörld ✓')).toBe('OK');
    expect(await redis.get('greeting')).toBe('héllo wörld ✓');
    expect(await redis.get('missing')).toBeNull();
    expect(await redis.incr('counter')).toBe(1);
    expect(await redis.incrby('counter', 41)).toBe(42);
    await redis.set('short', 'x', { ex: 60 });
    const ttl = await redis.ttl('short');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await redis.ttl('greeting')).toBe(-1);
  });

  it('JSON values round-trip (automatic deserialisation)', async () => {
    const value = {
      id: 7,
      tags: ['a', 'b'],
      nested: { ok: true },
      text: 'quote " and \\ backslash',
    };
    await redis.set('json', value);
    expect(await redis.get('json')).toEqual(value);
  });

  it('hashes come back whole (flat RESP2 arrays decoded by the client)', async () => {
    expect(await redis.hset('user:1', { name: 'Ada', role: 'admin' })).toBe(2);
    expect(await redis.hgetall('user:1')).toEqual({ name: 'Ada', role: 'admin' });
    expect(await redis.hget('user:1', 'name')).toBe('Ada');
  });

  it('sorted sets with scores', async () => {
    await redis.zadd(
      'board',
      { score: 3, member: 'c' },
      { score: 1, member: 'a' },
      { score: 2, member: 'b' },
    );
    expect(await redis.zrange('board', 0, -1)).toEqual(['a', 'b', 'c']);
    expect(await redis.zrange('board', 0, 0, { withScores: true })).toEqual(['a', 1]);
    expect(await redis.zcard('board')).toBe(3);
  });

  it('pipelines return one result per command, errors in place', async () => {
    await redis.set('plain', 'v');
    const results = await redis.pipeline().set('p1', 'one').get('p1').incr('p2').exec();
    expect(results).toEqual(['OK', 'one', 1]);
    const mixed = await raw('/pipeline', [
      ['GET', 'plain'],
      ['HGET', 'plain', 'field'],
    ]);
    expect(mixed.status).toBe(200);
    expect(mixed.body[0]).toEqual({ result: 'v' });
    expect(mixed.body[1].error).toMatch(/^WRONGTYPE/);
  });

  it('transactions (MULTI/EXEC) run atomically', async () => {
    const results = await redis.multi().set('t1', 'a').incr('t2').get('t1').exec();
    expect(results).toEqual(['OK', 1, 'a']);
  });

  it('EVAL and EVALSHA, with the NOSCRIPT fallback the client relies on', async () => {
    expect(await redis.eval('return ARGV[1] .. KEYS[1]', ['k'], ['v'])).toBe('vk');
    const noScript = await raw('/', ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0']);
    expect(noScript.status).toBe(400);
    expect(noScript.body.error).toMatch(/^NOSCRIPT/);
    const script = redis.createScript<number>('return redis.call("INCRBY", KEYS[1], ARGV[1])');
    expect(await script.exec(['scripted'], ['5'])).toBe(5); // NOSCRIPT, then EVAL
    expect(await script.exec(['scripted'], ['5'])).toBe(10); // EVALSHA
  });

  it('base64 encodes strings on request, leaving integers and nulls alone', async () => {
    await redis.set('b64', 'hi');
    const encoded = await raw(
      '/pipeline',
      [
        ['GET', 'b64'],
        ['INCR', 'b64-count'],
        ['GET', 'none'],
      ],
      {
        'upstash-encoding': 'base64',
      },
    );
    expect(encoded.body).toEqual([
      { result: Buffer.from('hi').toString('base64') },
      { result: 1 },
      { result: null },
    ]);
    expect((await raw('/', ['GET', 'b64'])).body).toEqual({ result: 'hi' });
  });

  it('passes Redis error text through with 400', async () => {
    const response = await raw('/', ['NOSUCHCOMMAND']);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/unknown command/i);
  });

  it('refuses a missing or wrong bearer token (401) and malformed bodies (400)', async () => {
    const noToken = await fetch(`${bridge.url}/`, { method: 'POST', body: '["PING"]' });
    expect(noToken.status).toBe(401);
    const wrong = await raw('/', ['PING'], { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect((await raw('/', { not: 'a command' })).status).toBe(400);
    expect((await raw('/pipeline', ['PING'])).status).toBe(400);
  });
});
