/**
 * The API's CORS policy, read by both the CDK stack (the HTTP API's `corsPreflight`) and the
 * local gateway, which answers preflights and adds the response headers the way API Gateway
 * does (AWS docs, "Configure CORS for HTTP APIs in API Gateway"). Only the allowed origins
 * differ per stage (`StageConfig.corsOrigins`; locally `localCorsOrigins`).
 *
 * No credentials mode: callers authenticate with a bearer token, never a cookie, so
 * `Access-Control-Allow-Credentials` is not sent and `*` is a valid method list (Fetch
 * standard, CORS protocol).
 */
export const corsPolicy = {
  /** `Access-Control-Allow-Methods`; `*` is CDK's `CorsHttpMethod.ANY`. */
  allowMethods: ['*'],
  /** `Access-Control-Allow-Headers`: request headers a browser may send cross-origin. */
  allowHeaders: [
    'authorization',
    'content-type',
    'x-api-key',
    'if-match',
    'idempotency-key',
    'x-request-id',
  ],
  /** `Access-Control-Expose-Headers`: response headers a page's script may read. */
  exposeHeaders: [
    'etag',
    'location',
    'x-request-id',
    'x-cache',
    'retry-after',
    'ratelimit-limit',
    'ratelimit-remaining',
    'ratelimit-reset',
    'ratelimit-policy',
    'idempotent-replayed',
  ],
  /** `Access-Control-Max-Age` in seconds: browsers cache a preflight answer for 1 hour. */
  maxAgeSeconds: 3600,
} as const;

/**
 * Origins the local stack allows: `CORS_ORIGINS` (comma-separated) when set, else a page
 * served from `localhost` or `127.0.0.1` on `port` (the gateway's own) or on 3000 (the dev
 * stage's allowed origin, `infra/stages.ts`).
 */
export function localCorsOrigins(
  port: number,
  env: Record<string, string | undefined> = process.env,
): string[] {
  const configured = env.CORS_ORIGINS?.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (configured?.length) return configured;
  const ports = [...new Set([port, 3000])];
  return ports.flatMap((p) => [`http://localhost:${p}`, `http://127.0.0.1:${p}`]);
}

/**
 * Whether a request's `Origin` is on the allow-list: an exact, case-sensitive match (an
 * origin is a serialised scheme, host and port, RFC 6454 §6.1), or `*`.
 */
export function isAllowedOrigin(origin: string | undefined, allowOrigins: readonly string[]) {
  return origin !== undefined && (allowOrigins.includes('*') || allowOrigins.includes(origin));
}
