import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalRedis, startRedisServer } from '../../infra/local/redis-server.js';
import { startUpstashBridge, type UpstashBridge } from '../../infra/local/upstash-bridge.js';

/**
 * How a deployed function finds Redis: `REDIS_REST_SECRET_ARN` names a Secrets Manager
 * secret `{"url","token"}`. Secrets Manager cannot run here, so a stand-in answers
 * `GetSecretValue` on its JSON protocol (the AWS SDK reaches it through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`); Redis and the bridge are real.
 */
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-AbCdEf';
let secretValue = JSON.stringify({ url: '', token: '' });
let secretReads = 0;
let secrets: Server;
let redis: LocalRedis;
let bridge: UpstashBridge;
const saved = { ...process.env };

beforeAll(async () => {
  secrets = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const target = request.headers['x-amz-target'];
      if (target !== 'secretsmanager.GetSecretValue' || JSON.parse(body).SecretId !== SECRET_ARN) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no' }));
        return;
      }
      secretReads++;
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify({
          ARN: SECRET_ARN,
          Name: 'redis',
          SecretString: secretValue,
          VersionId: `v${secretReads}`,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_700_000_000,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => secrets.listen(0, '127.0.0.1', resolve));
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url, token: 'first-token' });

  Object.assign(process.env, {
    STAGE: 'dev',
    REDIS_REST_SECRET_ARN: SECRET_ARN,
    REDIS_RETRY_AFTER_MS: '100',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secrets.address() as AddressInfo).port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  });
  delete process.env.REDIS_REST_URL;
  delete process.env.REDIS_REST_TOKEN;
});

// Each test starts from a fresh instance (module state), an empty secret and the first
// bridge token, with the clock past any secret read cached by an earlier test.
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  later(3_600_000);
  vi.resetModules();
  secretValue = JSON.stringify({ url: '', token: '' });
  secretReads = 0;
  const port = Number(new URL(bridge.url).port);
  await bridge.close();
  bridge = await startUpstashBridge({ redisUrl: redis.url, port, token: 'first-token' });
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  vi.useRealTimers();
  process.env = saved;
  await bridge.close();
  await redis.stop();
  await new Promise((resolve) => secrets.close(resolve));
});

/** The fake clock: only ever moves forward, across tests too. */
let fakeNow = Date.now();

/** Moves the clock past the secret cache (5 min) and the circuit breaker. */
function later(ms = 301_000) {
  fakeNow += ms;
  vi.setSystemTime(fakeNow);
}

describe('Redis endpoint from a Secrets Manager secret', () => {
  it('runs without Redis while the secret is empty, then uses it once filled', async () => {
    const { pingRedis, withRedis, RedisUnavailable } = await import('../../shared/cache/redis.js');
    expect(await pingRedis(1000)).toBe('unavailable'); // a deployed stage: Redis is expected
    await expect(withRedis((r) => r.ping())).rejects.toBeInstanceOf(RedisUnavailable);
    const reads = secretReads;
    expect(reads).toBe(1);

    secretValue = JSON.stringify({ url: bridge.url, token: 'first-token' });
    // Within the cache's lifetime the empty value is reused, without calling Secrets Manager.
    await expect(withRedis((r) => r.ping())).rejects.toBeInstanceOf(RedisUnavailable);
    expect(secretReads).toBe(reads);
    later();
    expect(await withRedis((r) => r.set('secret-test', 'v1'))).toBe('OK');
    expect(await withRedis((r) => r.get('secret-test'))).toBe('v1');
    expect(await pingRedis(1000)).toBe('ok');
  });

  it('picks up a rotated bridge token after a 401, without a restart', async () => {
    const { withRedis, RedisUnavailable } = await import('../../shared/cache/redis.js');
    secretValue = JSON.stringify({ url: bridge.url, token: 'first-token' });
    expect(await withRedis((r) => r.set('secret-test', 'v1'))).toBe('OK');
    const port = Number(new URL(bridge.url).port);
    await bridge.close();
    bridge = await startUpstashBridge({ redisUrl: redis.url, port, token: 'second-token' });
    secretValue = JSON.stringify({ url: bridge.url, token: 'second-token' });

    // The instance still holds the old token: 401, treated as Redis being unavailable.
    await expect(withRedis((r) => r.get('secret-test'))).rejects.toBeInstanceOf(RedisUnavailable);
    later();
    expect(await withRedis((r) => r.get('secret-test'))).toBe('v1');
  });
});
