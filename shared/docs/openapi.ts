import { STATUS_CODES } from 'node:http';
import * as z from 'zod/mini';
import { $ZodObject, type $ZodType } from 'zod/v4/core';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENT_REPLAYED_HEADER } from '../http/idempotency-key.js';
import { MAX_BODY_BYTES } from '../http/middleware/body.js';
import { keyScopesOf, type RouteDefinition } from '../http/route.js';
import { Problem } from '../http/schemas.js';
import type { RateLimitPolicy } from '../rate-limits.js';

/** What `info` says about the API; `version` is the package version of the deployed code. */
export type OpenApiInfo = { title: string; version: string; description: string };

/** Seconds in `Retry-After` of a 503 (what `ServiceUnavailable` and `errorToProblem` send). */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const EXAMPLE_REQUEST_ID = '5f0c7a8e-2b1d-4c3e-9f6a-7b8c9d0e1f2a';

/** A `detail` the server really sends for each error status (shared/errors.ts, services). */
const EXAMPLE_DETAIL: Record<number, string> = {
  400: 'The body is not valid JSON.',
  401: 'Send an access token: Authorization: Bearer <token>.',
  403: 'This route is for admins.',
  404: 'The resource does not exist.',
  409: 'The request conflicts with the current state of the resource.',
  412: 'The resource has changed since you read it (If-Match).',
  413: `The body is larger than ${MAX_BODY_BYTES} bytes.`,
  415: 'Send the body as application/json (UTF-8).',
  422: 'The request is not valid.',
  429: 'Too many requests. Try again in 12 s.',
  500: 'An unexpected error occurred.',
  503: 'The database is unavailable. Try again shortly.',
};

function isZod(value: unknown): value is $ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

function shapeKeys(schema: $ZodType | undefined): string[] {
  return schema instanceof $ZodObject ? Object.keys(schema._zod.def.shape) : [];
}

/** The error statuses a route can answer: implied by its entry, plus its own `errors`. */
export function errorStatuses(route: RouteDefinition): number[] {
  const statuses = new Set<number>();
  const request = route.request ?? {};
  if (request.body || request.form) for (const s of [400, 413, 415, 422]) statuses.add(s);
  if (request.query || request.path || request.headers) statuses.add(422);
  if (route.auth !== 'public') statuses.add(401);
  if (route.auth === 'admin') statuses.add(403);
  if (route.rateLimit) statuses.add(429);
  // A malformed key (400), a key in progress (409), a key reused with another request (422).
  if (route.idempotency) for (const s of [400, 409, 422]) statuses.add(s);
  if (route.database || route.rateLimit?.failMode === 'closed') statuses.add(503);
  for (const status of route.errors ?? []) statuses.add(status);
  statuses.add(500);
  return [...statuses].sort((a, b) => a - b);
}

/** A problem body as the server would send it for `status` on `route`. */
function problemExample(route: RouteDefinition, status: number): Problem {
  const request = route.request ?? {};
  const example: Problem = {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: EXAMPLE_DETAIL[status] ?? (STATUS_CODES[status] as string),
    instance: route.path.replace(/\{\w+\+?\}/g, '6f1c2b9e-8d4a-4f3e-9a51-2c7d0b8e4a10'),
    request_id: EXAMPLE_REQUEST_ID,
  };
  if (status === 400 && !request.body && !request.form) {
    example.detail = 'The cursor is malformed. Use next_cursor from a previous page.';
  }
  if (status === 409 && route.idempotency && !route.errors?.includes(409)) {
    example.detail =
      'A request with this Idempotency-Key is still in progress. Retry once it has finished.';
  }
  if (status === 401 && route.auth === 'public') {
    example.detail = 'Incorrect e-mail or password.';
  }
  if (status === 422) {
    const [bodyField] = shapeKeys(request.body ?? request.form);
    const [queryField] = shapeKeys(request.query);
    const [pathField] = shapeKeys(request.path);
    const field =
      bodyField ??
      (queryField ? `query.${queryField}` : pathField ? `path.${pathField}` : 'header.if-match');
    example.errors = [{ field, message: 'Invalid input.', code: 'invalid_type' }];
  }
  return example;
}

const RETRY_AFTER = {
  description: 'Seconds to wait before retrying (RFC 9110 §10.2.3).',
  required: true,
  schema: { type: 'integer' as const, minimum: 0 },
};

/**
 * The `RateLimit-*` headers of a rate-limited route (`rateLimitHeaders` in
 * shared/cache/rate-limiter.ts). Absent when the limiter is unavailable and the policy fails
 * open, so not required.
 */
function rateLimitHeaders(policy: RateLimitPolicy) {
  const integer = (description: string, example: number) => ({
    description,
    schema: { type: 'integer' as const, minimum: 0, example },
  });
  return {
    'RateLimit-Policy': {
      description:
        `The budget these numbers belong to, \`<limit>;w=<window seconds>\` (IETF httpapi ` +
        `RateLimit draft): this route's, ${policy.limit} requests per ${policy.windowSeconds} s, ` +
        `or on a 429 possibly a per-IP budget that runs before authentication.`,
      schema: { type: 'string' as const, example: `${policy.limit};w=${policy.windowSeconds}` },
    },
    'RateLimit-Limit': integer('Requests allowed in the window.', policy.limit),
    'RateLimit-Remaining': integer('Requests left in the current window.', policy.limit - 1),
    'RateLimit-Reset': integer('Seconds until the window resets.', policy.windowSeconds),
  };
}

/** `if-match` → `If-Match`: how a header name is usually written (names are case-insensitive). */
function headerName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => {
    return dash + letter.toUpperCase();
  });
}

/**
 * Header parameters from `request.headers` (a zod object keyed by lower-case names): a copy of
 * each field that inherits its metadata and adds where it goes (the field itself is unchanged).
 */
function headerParameters(schema: $ZodType | undefined): $ZodType[] {
  if (!(schema instanceof $ZodObject)) return [];
  return Object.entries(schema._zod.def.shape).map(([name, field]) => {
    const parameter = z.clone(field);
    z.globalRegistry.add(parameter, { param: { name: headerName(name), in: 'header' } });
    return parameter;
  });
}

/**
 * The `Idempotency-Key` header parameter of an idempotent route (API.md § Idempotency keys):
 * optional, 1–255 printable ASCII characters, else 400.
 */
const IdempotencyKeyParameter = z
  .optional(
    z
      .string()
      .check(z.minLength(1), z.maxLength(IDEMPOTENCY_KEY_MAX_LENGTH), z.regex(/^[\x20-\x7E]+$/)),
  )
  .register(z.globalRegistry, {
    param: { name: 'Idempotency-Key', in: 'header' },
    description:
      'Optional (draft-ietf-httpapi-idempotency-key-header). A key of your choice, 1–255 ' +
      'printable ASCII characters (U+0020–U+007E; else 400), e.g. a UUID, new for each new ' +
      'request. Keys are scoped to the caller and the route and kept at least 24 hours. The ' +
      'same key with the same request (method, path, body; key order and whitespace do not ' +
      'matter) once the first has finished: the first response again, with ' +
      '`Idempotent-Replayed: true`, and no second write. The same key with a different body: ' +
      '422 (code `idempotency_key_reused`). While the first request with the key is still in ' +
      'progress: 409. Only requests that reached the ' +
      'write are recorded (their 2xx, or a 409/422 of a business rule); a refused request ' +
      '(authentication, validation, limits) or a 5xx leaves no record, so the key can be ' +
      'retried.',
    example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
  });

/** The `Idempotent-Replayed` response header of an idempotent route's replayed responses. */
const IDEMPOTENT_REPLAYED = {
  description:
    '`true` when this is the stored response of an earlier request with the same ' +
    '`Idempotency-Key` (the write did not happen again); absent otherwise.',
  schema: { type: 'string' as const, enum: ['true'] },
};

type Headers = NonNullable<ZodOpenApiResponseObject['headers']>;

/** Headers of an error response: `Retry-After` on 429 and 503, the challenge on 401. */
function errorHeaders(route: RouteDefinition, status: number): Headers | undefined {
  if (status === 429) {
    return {
      'Retry-After': RETRY_AFTER,
      ...(route.rateLimit && rateLimitHeaders(route.rateLimit)),
    };
  }
  if (status === 503) {
    const schema = { ...RETRY_AFTER.schema, example: UNAVAILABLE_RETRY_AFTER_SECONDS };
    return { 'Retry-After': { ...RETRY_AFTER, schema } };
  }
  if (status === 401) {
    return {
      'WWW-Authenticate': {
        description: 'The bearer challenge (RFC 6750 §3).',
        required: true,
        schema: { type: 'string', example: 'Bearer' },
      },
    };
  }
  return undefined;
}

function operation(name: string, route: RouteDefinition): ZodOpenApiOperationObject {
  const request = route.request ?? {};
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  const limitHeaders = route.rateLimit ? rateLimitHeaders(route.rateLimit) : {};
  for (const [status, schema] of Object.entries(route.responses)) {
    const success = Number(status) < 300;
    const headers = {
      ...(success ? limitHeaders : errorHeaders(route, Number(status))),
      ...(route.idempotency && (success || status === '409' || status === '422')
        ? { [IDEMPOTENT_REPLAYED_HEADER]: IDEMPOTENT_REPLAYED }
        : {}),
      ...Object.fromEntries(
        Object.entries(success ? (route.responseHeaders ?? {}) : {}).map(([header, text]) => [
          header,
          { description: text, schema: { type: 'string' as const } },
        ]),
      ),
    };
    responses[status] = {
      description: STATUS_CODES[Number(status)] ?? status,
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(isZod(schema)
        ? { content: { 'application/json': { schema } } }
        : schema
          ? { content: { [schema.mediaType]: {} } }
          : {}),
    };
  }
  for (const status of errorStatuses(route)) {
    const replayable = route.idempotency && (status === 409 || status === 422);
    const headers = {
      ...errorHeaders(route, status),
      ...(replayable ? { [IDEMPOTENT_REPLAYED_HEADER]: IDEMPOTENT_REPLAYED } : {}),
    };
    responses[String(status)] ??= {
      description: STATUS_CODES[status] ?? String(status),
      ...(Object.keys(headers).length ? { headers } : {}),
      content: {
        'application/problem+json': { schema: Problem, example: problemExample(route, status) },
      },
    };
  }
  const content: Record<string, { schema: $ZodType }> = {};
  if (request.body) content['application/json'] = { schema: request.body };
  if (request.form) content['application/x-www-form-urlencoded'] = { schema: request.form };
  const parameters = [
    ...headerParameters(request.headers),
    ...(route.idempotency ? [IdempotencyKeyParameter] : []),
  ];
  return {
    operationId: name,
    summary: route.summary,
    ...(describeAuth(route) ? { description: describeAuth(route) } : {}),
    tags: [route.tag],
    ...(route.auth === 'public' ? { security: [] } : {}),
    // A route that accepts keys lists the scheme with the scope the key needs (OpenAPI 3.1
    // allows scopes on any scheme); others keep the document's token-only requirement.
    ...(route.auth !== 'public' && route.apiKeyScope
      ? {
          security: [
            ...TOKEN_SECURITY,
            ...keyScopesOf(route).map((scope) => ({ apiKey: [scope] })),
          ],
        }
      : {}),
    ...(request.path || request.query
      ? {
          requestParams: {
            ...(request.path ? { path: request.path as $ZodObject } : {}),
            ...(request.query ? { query: request.query as $ZodObject } : {}),
          },
        }
      : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(Object.keys(content).length
      ? {
          requestBody: {
            required: !(request.body && z.safeParse(request.body, undefined).success),
            content,
          },
        }
      : {}),
    responses,
  };
}

/** Token requirements: either of the two schemes (the document's default). */
const TOKEN_SECURITY: Record<string, string[]>[] = [{ oauth2: [] }, { bearerAuth: [] }];

/** The route's description, with what it accepts for signed-in routes. */
function describeAuth(route: RouteDefinition): string | undefined {
  if (route.auth === 'public') return route.description;
  const accepts = route.apiKeyScope
    ? `Accepts an access token or an API key with the scope ${keyScopesOf(route)
        .map((scope) => `\`${scope}\``)
        .join(' or ')}.`
    : 'Access tokens only: an API key gets 403.';
  return route.description ? `${route.description}\n\n${accepts}` : accepts;
}

/**
 * The OpenAPI 3.1 document of `routes` (name → route), generated from their zod schemas by
 * zod-openapi, as strict as the server: every status a route can answer (problem+json with
 * an example each; 503 with `Retry-After` where the database is used; 429 with `Retry-After`
 * and the `RateLimit-*` headers, which success responses carry too), header parameters such
 * as `If-Match` and, on idempotent routes, `Idempotency-Key` (with the `Idempotent-Replayed`
 * response header and the 400/409/422 of keys), and one relative server (`/`, the host serving the document). Non-public
 * routes accept a bearer token or the OAuth 2.0 password flow whose token URL is the login
 * route and whose refresh URL is the refresh route, so Swagger UI's Authorize button works;
 * routes with an `apiKeyScope` also accept the `apiKey` scheme (`X-API-Key`) with that scope.
 */
export function buildOpenApiDocument(
  routes: Record<string, RouteDefinition>,
  info: OpenApiInfo,
): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const [name, route] of Object.entries(routes)) {
    if (route.hidden) continue;
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: operation(name, route),
    };
  }
  return createDocument({
    openapi: '3.1.0',
    info,
    servers: [{ url: '/', description: 'The host that serves this document' }],
    security: TOKEN_SECURITY,
    components: {
      // oauth2 first: Swagger UI's Authorize dialog lists it first (log in with e-mail as username).
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: {
            password: {
              tokenUrl: '/api/v1/auth/login',
              refreshUrl: '/api/v1/auth/refresh',
              scopes: {},
            },
          },
        },
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        // Machine clients (API.md § API keys); also accepted as `Authorization: Bearer sk_…`.
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description:
            'An API key `sk_<stage>_…` from `POST /api/v1/api-keys`, on the routes that list ' +
            'this scheme, with the scope they name. Also accepted as `Authorization: Bearer sk_…`.',
        },
      },
    },
    paths,
  });
}
