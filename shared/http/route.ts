import type * as core from 'zod/v4/core';
import type { ApiKeyScope } from '../api-keys/schemas.js';
import type { FileAccess } from '../files/prefixes.js';
import type { QueueName } from '../queue/queues.js';
import type { RateLimitPolicy } from '../rate-limits.js';

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: anyone, any signed-in user, or an admin. */
export type AuthRequirement = 'public' | 'user' | 'admin';

/** A response without a JSON body: nothing (`204`, `201` with no body) or a raw media type. */
export type RawResponse = { mediaType: string } | null;

/**
 * The schemas of one route's request; `form` is accepted as `application/x-www-form-urlencoded`.
 * `headers` names, in lower case, the request headers the route reads (validated, documented).
 * Any zod schema (`zod/mini`, as `shared/` writes them, or classic zod, as tests may).
 */
export interface RouteRequest {
  path?: core.$ZodType;
  query?: core.$ZodType;
  headers?: core.$ZodType;
  body?: core.$ZodType;
  form?: core.$ZodType;
}

/**
 * One entry of the route table (`shared/routes/`): everything the gateway, CDK, the OpenAPI
 * generator and the tests need to know about a route. `function` is the handler's file under
 * `functions/` without extension (e.g. `notes/get` → `functions/notes/get.ts`).
 */
export interface RouteDefinition {
  method: HttpMethod;
  /** API Gateway path template: `/api/v1/notes/{id}`. */
  path: string;
  function: string;
  auth: AuthRequirement;
  /**
   * The scope an API key needs to call this route (API.md § API keys), or a list of which it
   * needs any one (the job routes: the handler checks the one its work needs); none: tokens
   * only (a key gets 403). Only on `user` and `admin` routes that use the database (the key
   * lookup).
   */
  apiKeyScope?: ApiKeyScope | readonly ApiKeyScope[];
  /**
   * The function queries PostgreSQL. CDK grants the database (and VPC placement) only to
   * these; OpenAPI documents their 503 with `Retry-After` (database unavailable).
   */
  database: boolean;
  /** The function signs access tokens (login, refresh): only these may read the private keys. */
  signsTokens?: boolean;
  /** Rate-limit policy from `shared/rate-limits.ts`; null only for health probes. */
  rateLimit: RateLimitPolicy | null;
  summary: string;
  description?: string;
  tag: string;
  /** Left out of `/openapi.json` (static assets of the docs pages). */
  hidden?: boolean;
  request?: RouteRequest;
  /** Success responses by status: a zod schema for JSON, or a `RawResponse`. */
  responses: Record<number, core.$ZodType | RawResponse>;
  /** Queues the handler publishes to (CDK grants `sqs:SendMessage` and sets their URLs). */
  publishes?: QueueName[];
  /**
   * What the handler does with the files bucket, per prefix (CDK grants exactly these and
   * sets `FILES_BUCKET`; a presigned URL it signs needs the same access).
   */
  files?: FileAccess[];
  /** Error statuses the route's own rules produce (auth, body, limit errors are implied). */
  errors?: number[];
  /**
   * The route honours the `Idempotency-Key` request header (API.md § Idempotency keys;
   * `middleware/idempotency.ts`): its handler passes `input.idempotency?.hooks(render)` to
   * the service's write transaction. Only on `user` and `admin` routes (keys are per caller)
   * that use the database and are not GET (`createHandler` refuses others).
   */
  idempotency?: boolean;
  /** Response headers worth documenting, by name → description. */
  responseHeaders?: Record<string, string>;
}

/** Identity helper that keeps a route's literal types for handler inference. */
/** The scopes of which an API key needs one to call `route`; empty: tokens only. */
export function keyScopesOf(route: Pick<RouteDefinition, 'apiKeyScope'>): readonly ApiKeyScope[] {
  const scope = route.apiKeyScope;
  if (scope === undefined) return [];
  return typeof scope === 'string' ? [scope] : scope;
}

export function defineRoute<const R extends RouteDefinition>(route: R): R {
  return route;
}

/**
 * Compiles an API Gateway path template to a matcher. `{name}` matches one segment,
 * `{name+}` the rest of the path. Returns the decoded parameters, or null.
 */
export function compilePath(template: string): (path: string) => Record<string, string> | null {
  const names: string[] = [];
  const pattern = template
    .replace(/[.*?^$()|[\]\\]/g, '\\$&')
    .replace(/\{(\w+)(\+)?\}/g, (_match, name: string, greedy?: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
  const regex = new RegExp(`^${pattern}$`);
  return (path) => {
    const match = regex.exec(path);
    if (!match) return null;
    const params: Record<string, string> = {};
    names.forEach((name, i) => {
      const raw = match[i + 1] ?? '';
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        params[name] = raw;
      }
    });
    return params;
  };
}
