import { randomUUID } from 'node:crypto';
import { afterAll, expect, vi } from 'vitest';
import { startRedisServer } from '../../infra/local/redis-server.js';
import { startUpstashBridge } from '../../infra/local/upstash-bridge.js';

/**
 * For a test file that stops or freezes Redis: its own `redis-server` and Upstash bridge, a
 * short circuit-breaker window (300 ms) and rate limits on, set in `process.env` — so call it
 * before importing any handler. `requests` records what the bridge was sent. Stopped (and resumed first, if frozen) after the file.
 */
export async function usePrivateRedis() {
  const server = await startRedisServer();
  /** Every request the bridge was sent (path and JSON body), oldest first. */
  const requests: { path: string; body: unknown }[] = [];
  const bridge = await startUpstashBridge({
    redisUrl: server.url,
    onRequest: (path, body) => requests.push({ path, body }),
  });
  Object.assign(process.env, {
    REDIS_REST_URL: bridge.url,
    REDIS_REST_TOKEN: bridge.token,
    REDIS_RETRY_AFTER_MS: '300',
    RATE_LIMITS: 'on',
  });
  afterAll(async () => {
    server.resume();
    await bridge.close();
    await server.stop();
  });
  return { server, bridge, requests };
}

/**
 * Waits (polling, 10 s at most) until Redis answers again after an outage, i.e. the circuit
 * breaker has closed. The stack's modules are imported here, after `usePrivateRedis` set the
 * environment.
 */
export async function untilRedisAnswers(): Promise<void> {
  const { RedisBatch } = await import('../../shared/cache/redis-batch.js');
  await vi.waitFor(
    async () => {
      const batch = new RedisBatch();
      const answer = batch.exists(`probe-${randomUUID()}`);
      await batch.send();
      await expect(answer).resolves.toBe(0);
    },
    { timeout: 10_000, interval: 50 },
  );
}
