import type { HttpResult } from './middleware/types.js';

/** A handler's reply before it becomes a response (`Reply<R>` in `handler.ts`, untyped). */
export interface ReplyLike {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * The API Gateway result of a reply: `Cache-Control: no-store` unless the reply sets it; no
 * body when it has none; a string body as is when the reply gives a `Content-Type`; anything
 * else as JSON with `Content-Type: application/json`.
 */
export function toResult(reply: ReplyLike): HttpResult & { headers: Record<string, string> } {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...reply.headers };
  if (reply.body === undefined) return { statusCode: reply.status, headers };
  if (typeof reply.body === 'string' && headers['Content-Type']) {
    return { statusCode: reply.status, headers, body: reply.body };
  }
  headers['Content-Type'] = 'application/json';
  return { statusCode: reply.status, headers, body: JSON.stringify(reply.body) };
}
