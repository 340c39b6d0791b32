import { randomUUID } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { afterAll, describe, expect, it } from 'vitest';
import { startUpstashBridge } from '../../infra/local/upstash-bridge.js';
import type { BudgetReceipt } from '../../shared/cache/rate-limiter.js';
import type { RateLimitPolicy } from '../../shared/rate-limits.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';

// The cache, the limits and the deny list on a Redis Cluster, as in AWS (ElastiCache
// Serverless is one): the project's own modules → @upstash/redis → the Upstash REST bridge →
// three redis-server nodes, where every multi-key command, transaction and script must keep
// its keys in one hash slot. The modules keep one Redis client per module instance, so the
// environment points at this file's bridge before they are imported.
// 30 s: in a full run on 2 cores the nodes' gossip once took more than the default 10 s to
// show every node the third one's slots (cluster_slots_assigned 10923 of 16384).
const cluster = await startRedisCluster({ size: 3, timeoutMs: 30_000 });
afterAll(() => cluster.stop());
const bridge = await startUpstashBridge({ clusterNodes: cluster.nodes.map((node) => node.url) });
afterAll(() => bridge.close());
Object.assign(process.env, {
  REDIS_REST_URL: bridge.url,
  REDIS_REST_TOKEN: bridge.token,
  RATE_LIMITS: 'on',
  // A failure opens the circuit breaker: short, so one failing test does not fail the next.
  REDIS_RETRY_AFTER_MS: '100',
});

const { consumeRateLimit, giveBack, takeBudgets } = await import(
  '../../shared/cache/rate-limiter.js'
);
const { RedisBatch } = await import('../../shared/cache/redis-batch.js');
const { bumpCacheVersion, cacheAside, readCacheVersion } = await import(
  '../../shared/cache/cache-aside.js'
);
const { isAccessTokenRevoked, revokeAccessToken } = await import('../../shared/auth/revocation.js');
const { rateLimitPolicies } = await import('../../shared/rate-limits.js');
const { closeSql, withTransaction } = await import('../../shared/db/client.js');
afterAll(() => closeSql());

/** A client of the bridge for the checks the modules do not make themselves. */
const redis = new Redis({
  url: bridge.url,
  token: bridge.token,
  retry: false,
  enableTelemetry: false,
  automaticDeserialization: false,
});
const CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";

/**
 * One name per node, `<prefix>:<n>`, whose key (`{<name>}` with `tagged`, the hash tag the
 * modules put around a scope or limit tag) node i serves: each test covers every node.
 */
async function onEveryNode(prefix: string, tagged = true): Promise<[string, string, string]> {
  const found: (string | undefined)[] = cluster.nodes.map(() => undefined);
  for (let n = 0; found.includes(undefined); n++) {
    const name = `${prefix}:${n}`;
    found[await cluster.nodeOf(tagged ? `{${name}}` : name)] ??= name;
  }
  return found as [string, string, string];
}

/** Two keys of node 0 in different hash slots. */
async function twoSlotsOfOneNode(prefix: string): Promise<[string, string]> {
  const keys: string[] = [];
  for (let n = 0; keys.length < 2; n++) {
    if ((await cluster.nodeOf(`${prefix}:${n}`)) === 0) keys.push(`${prefix}:${n}`);
  }
  return keys as [string, string];
}

/** The bridge's raw answer to `body` on `path`. */
async function raw(path: string, body: unknown) {
  const response = await fetch(`${bridge.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bridge.token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

/**
 * `outcome` when Redis answered. The modules turn any Redis error (a CROSSSLOT too) into
 * `unavailable`, so here that is a failure.
 */
function answered<T>(outcome: T | 'unavailable'): T {
  if (outcome === 'unavailable') throw new Error('a command failed on the cluster (CROSSSLOT?)');
  return outcome;
}

const testPolicy = (limit: number): RateLimitPolicy => ({
  name: 'cluster-test',
  limit,
  windowSeconds: 60,
  algorithm: 'sliding-window',
  identity: 'user',
  failMode: 'open',
});

describe('the local cluster is a real Redis Cluster (negative controls)', () => {
  it('refuses, with Upstash’s error shape, multi-key commands whose keys span slots', async () => {
    // Two keys of different nodes, and two keys of one node in different slots.
    const [a, b] = await onEveryNode(`plain:${randomUUID()}`, false);
    const pairs = [[a, b], await twoSlotsOfOneNode(`near:${randomUUID()}`)];
    for (const [x, y] of pairs as [string, string][]) {
      await expect(redis.mset({ [x]: '1', [y]: '2' })).rejects.toThrow(CROSSSLOT);
      await expect(redis.mget(x, y)).rejects.toThrow(CROSSSLOT);
      await expect(redis.del(x, y)).rejects.toThrow(CROSSSLOT);
      await expect(redis.eval('return #KEYS', [x, y], [])).rejects.toThrow(CROSSSLOT);
      await expect(redis.multi().set(x, '1').set(y, '2').exec()).rejects.toThrow(CROSSSLOT);
      expect(await raw('/', ['MSET', x, '1', y, '2'])).toEqual({
        status: 400,
        body: { error: CROSSSLOT },
      });
      expect(
        await raw('/multi-exec', [
          ['SET', x, '1'],
          ['SET', y, '2'],
        ]),
      ).toEqual({ status: 400, body: { error: CROSSSLOT } });
      // Nothing of a refused transaction ran.
      expect(await redis.exists(x)).toBe(0);
    }
  });

  it('accepts the same commands when the keys share a hash tag', async () => {
    const tag = `{shared:${randomUUID()}}`;
    const [x, y] = [`${tag}:x`, `${tag}:y`];
    expect(await redis.mset({ [x]: '1', [y]: '2' })).toBe('OK');
    expect(await redis.mget(x, y)).toEqual(['1', '2']);
    expect(await redis.eval('return #KEYS', [x, y], [])).toBe(2);
    expect(await redis.multi().incr(x).incr(y).exec()).toEqual([2, 3]);
    expect(await redis.del(x, y)).toBe(2);
  });

  it('runs a pipeline across nodes, in order, with a cross-slot command failing in place', async () => {
    const [a, b, c] = await onEveryNode(`pipe:${randomUUID()}`, false);
    expect(await redis.pipeline().set(a, '1').set(b, '2').incr(c).get(a).get(b).exec()).toEqual([
      'OK',
      'OK',
      1,
      '1',
      '2',
    ]);
    expect(
      await raw('/pipeline', [
        ['INCR', a],
        ['MSET', a, '0', b, '0'],
        ['GET', a],
      ]),
    ).toEqual({ status: 200, body: [{ result: 2 }, { error: CROSSSLOT }, { result: '2' }] });
  });

  it('loads and flushes scripts on every primary, so EVALSHA works for keys on any node', async () => {
    const keys = await onEveryNode(`script:${randomUUID()}`, false);
    const marker = randomUUID();
    const script = `return KEYS[1] .. ' ${marker}'`;
    const sha = await redis.scriptLoad(script);
    expect(await redis.scriptExists(sha)).toEqual([1]);
    for (const key of keys) expect(await redis.evalsha(sha, [key], [])).toBe(`${key} ${marker}`);
    expect(await redis.scriptFlush()).toBe('OK');
    expect(await redis.scriptExists(sha)).toEqual([0]);
    for (const key of keys) await expect(redis.evalsha(sha, [key], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it('flushes every primary', async () => {
    const keys = await onEveryNode(`flush:${randomUUID()}`, false);
    for (const key of keys) await redis.set(key, 'x');
    expect(await redis.flushdb()).toBe('OK');
    for (const key of keys) expect(await redis.exists(key)).toBe(0);
  });
});

describe('rate limits on the cluster (shared/cache/rate-limiter.ts)', () => {
  it('login failure budgets: taken all or nothing in one slot, given back', async () => {
    const { loginFailures, loginAccountFailures } = rateLimitPolicies;
    for (const tag of await onEveryNode(`login:${randomUUID()}`)) {
      const budgets = [
        { policy: loginFailures, identity: '198.51.100.7' },
        { policy: loginAccountFailures },
      ];
      const now = Date.now();
      const receipts: BudgetReceipt[] = [];
      for (let taken = 1; taken <= 5; taken++) {
        const decision = answered(await takeBudgets(tag, budgets, now));
        expect(decision.allowed).toBe(true);
        expect(decision.decisions.map((d) => d.remaining)).toEqual([5 - taken, 5 - taken]);
        receipts.push(decision.receipt);
      }
      // Both budgets' counters of this window: two keys, both in the tag's slot.
      expect(await cluster.keysInSlotOf(`{${tag}}`)).toBe(2);
      const spent = answered(await takeBudgets(tag, budgets, now));
      expect(spent.allowed).toBe(false);
      expect(spent.denied?.policy.name).toBe(loginFailures.name);
      expect(spent.denied?.decision.resetSeconds).toBeGreaterThanOrEqual(1);
      await giveBack(receipts[0] as BudgetReceipt);
      expect(answered(await takeBudgets(tag, budgets, now)).allowed).toBe(true);
    }
  });

  it('per-IP budgets: a request token, and a refused-credential token required to be left', async () => {
    const { ipRequests, ipRefusedCredentials } = rateLimitPolicies;
    for (const tag of await onEveryNode(`ip:${randomUUID()}`)) {
      const request = [
        { policy: ipRequests, cost: 1 as const },
        { policy: ipRefusedCredentials, cost: 0 as const },
      ];
      const now = Date.now();
      const first = answered(await takeBudgets(tag, request, now));
      expect(first.allowed).toBe(true);
      expect(first.decisions.map((d) => d.remaining)).toEqual([
        ipRequests.limit - 1,
        ipRefusedCredentials.limit,
      ]);
      expect(await cluster.keysInSlotOf(`{${tag}}`)).toBe(1); // cost 0 writes nothing
      // Refusals raced past the budget: exactly the limit of them get a token.
      const refusals = await Promise.all(
        Array.from({ length: ipRefusedCredentials.limit + 10 }, () =>
          takeBudgets(tag, [{ policy: ipRefusedCredentials }], now),
        ),
      );
      const granted = refusals.map(answered).filter((d) => d.allowed);
      expect(granted).toHaveLength(ipRefusedCredentials.limit);
      // Now the IP's requests are refused, and the refused take spends no request token.
      const denied = answered(await takeBudgets(tag, request, now));
      expect(denied.denied?.policy.name).toBe(ipRefusedCredentials.name);
      expect(denied.decisions[0]?.remaining).toBe(ipRequests.limit - 1);
    }
  });

  it('a route limit: consumeRateLimit counts down, then refuses, under concurrency too', async () => {
    const policy = testPolicy(3);
    for (const identity of await onEveryNode(`user:${randomUUID()}`)) {
      const answers = [];
      for (let n = 0; n < 4; n++) answers.push(answered(await consumeRateLimit(policy, identity)));
      expect(answers.map((a) => [a.allowed, a.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
    }
    const identity = `raced:${randomUUID()}`;
    const raced = await Promise.all(
      Array.from({ length: 12 }, () => consumeRateLimit(policy, identity)),
    );
    expect(raced.map(answered).filter((a) => a.allowed)).toHaveLength(policy.limit);
  });

  it('one request’s batch (per-IP limit, deny list, route limit) is one pipeline across slots', async () => {
    // consumeRateLimit's keys carry the hash tag `{route:<identity>}`.
    const route = randomUUID();
    const [ipTag] = await onEveryNode(`ip:${randomUUID()}`); // on node 0
    const [, routeTag] = await onEveryNode(`route:${route}`); // on node 1
    const identity = routeTag.slice('route:'.length);
    const tokenId = randomUUID();
    await revokeAccessToken({
      userId: randomUUID(),
      role: 'user',
      tokenId,
      expiresAt: Math.floor(Date.now() / 1000) + 900,
    });
    const batch = new RedisBatch();
    const ip = takeBudgets(
      ipTag,
      [
        { policy: rateLimitPolicies.ipRequests, cost: 1 },
        { policy: rateLimitPolicies.ipRefusedCredentials, cost: 0 },
      ],
      Date.now(),
      batch,
    );
    const revoked = isAccessTokenRevoked(tokenId, batch);
    const limit = consumeRateLimit(testPolicy(3), identity, batch);
    await batch.send();
    expect(answered(await ip).allowed).toBe(true);
    expect(await revoked).toBe(true);
    expect(answered(await limit)).toMatchObject({ allowed: true, remaining: 2 });
  });
});

describe('cache-aside on the cluster (shared/cache/cache-aside.ts)', () => {
  it('misses, stores in the scope’s slot, hits; a version bump in PostgreSQL moves to a new entry', async () => {
    for (const scope of await onEveryNode(`notes:${randomUUID()}`)) {
      let loads = 0;
      const read = () =>
        cacheAside({
          scope,
          variant: 'limit=20',
          ttlSeconds: 30,
          version: () => readCacheVersion(scope),
          load: async () => ({ page: ++loads }),
        });
      expect(await read()).toEqual({ value: { page: 1 }, cache: 'miss' });
      expect(await read()).toEqual({ value: { page: 1 }, cache: 'hit' });
      expect(await cluster.keysInSlotOf(`{${scope}}`)).toBe(1);
      await withTransaction((tx) => bumpCacheVersion(tx, scope));
      expect(await readCacheVersion(scope)).toBe('1');
      expect(await read()).toEqual({ value: { page: 2 }, cache: 'miss' });
      expect(await read()).toEqual({ value: { page: 2 }, cache: 'hit' });
      expect(await cluster.keysInSlotOf(`{${scope}}`)).toBe(2);
      expect(loads).toBe(2);
    }
  });
});

describe('the deny list on the cluster (shared/auth/revocation.ts)', () => {
  it('twelve revoked token ids (one key each, routed by key) are found; an unknown one is not', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 900;
    const ids = Array.from({ length: 12 }, () => randomUUID());
    for (const tokenId of ids) {
      expect(
        await revokeAccessToken({ userId: randomUUID(), role: 'user', tokenId, expiresAt }),
      ).toBe(true);
    }
    for (const tokenId of ids) expect(await isAccessTokenRevoked(tokenId)).toBe(true);
    expect(await isAccessTokenRevoked(randomUUID())).toBe(false);
  });
});
