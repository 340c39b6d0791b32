/**
 * The Upstash REST bridge (`infra/local/upstash-bridge.ts`) in a process of its own, as the
 * bench runs it: in AWS the functions reach Redis over HTTP on another host, so the bridge's
 * work must not share the functions' event loop and CPU. Started by `startBridgeProcess`;
 * reads `BENCH_REDIS_URL`.
 */
import { startUpstashBridge } from '../infra/local/upstash-bridge.js';
import { serveParent } from './children.js';

await serveParent(async () => {
  const redisUrl = process.env.BENCH_REDIS_URL;
  if (!redisUrl) throw new Error('BENCH_REDIS_URL is not set');
  const bridge = await startUpstashBridge({ redisUrl });
  return { ready: { url: bridge.url, token: bridge.token }, stop: () => bridge.close() };
});
