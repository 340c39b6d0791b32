import { STATUS_CODES } from 'node:http';
import type { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import type { RouteDefinition } from '../http/route.js';
import { Problem } from '../http/schemas.js';

const PROBLEM_CONTENT = { 'application/problem+json': { schema: Problem } };

function isZod(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** The error statuses a route can answer: implied by auth, request and limits, plus `errors`. */
function errorStatuses(route: RouteDefinition): number[] {
  const statuses = new Set<number>();
  const request = route.request ?? {};
  if (request.body || request.form) for (const s of [400, 413, 415, 422]) statuses.add(s);
  if (request.query || request.path) statuses.add(422);
  if (route.auth !== 'public') statuses.add(401);
  if (route.auth === 'admin') statuses.add(403);
  if (route.rateLimit) statuses.add(429);
  for (const status of route.errors ?? []) statuses.add(status);
  statuses.add(500);
  return [...statuses].sort();
}

function operation(name: string, route: RouteDefinition): ZodOpenApiOperationObject {
  const request = route.request ?? {};
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, schema] of Object.entries(route.responses)) {
    const headers = Object.fromEntries(
      Object.entries(route.responseHeaders ?? {}).map(([header, description]) => [
        header,
        { description, schema: { type: 'string' as const } },
      ]),
    );
    responses[status] = {
      description: STATUS_CODES[Number(status)] ?? status,
      ...(Number(status) < 300 && route.responseHeaders ? { headers } : {}),
      ...(isZod(schema)
        ? { content: { 'application/json': { schema } } }
        : schema
          ? { content: { [schema.mediaType]: {} } }
          : {}),
    };
  }
  for (const status of errorStatuses(route)) {
    responses[String(status)] ??= {
      description: STATUS_CODES[status] ?? String(status),
      content: PROBLEM_CONTENT,
    };
  }
  const content: Record<string, { schema: z.ZodType }> = {};
  if (request.body) content['application/json'] = { schema: request.body };
  if (request.form) content['application/x-www-form-urlencoded'] = { schema: request.form };
  return {
    operationId: name,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(route.auth === 'public' ? { security: [] } : {}),
    ...(request.path || request.query
      ? {
          requestParams: {
            ...(request.path ? { path: request.path as z.ZodObject } : {}),
            ...(request.query ? { query: request.query as z.ZodObject } : {}),
          },
        }
      : {}),
    ...(Object.keys(content).length ? { requestBody: { required: true, content } } : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of `routes` (name → route), generated from their zod schemas by
 * zod-openapi. Non-public routes accept a bearer token or the OAuth 2.0 password flow whose
 * token URL is the login route, so Swagger UI's Authorize button works.
 */
export function buildOpenApiDocument(
  routes: Record<string, RouteDefinition>,
  info: { title: string; version: string; description: string },
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
    security: [{ oauth2: [] }, { bearerAuth: [] }],
    components: {
      // oauth2 first: Swagger UI's Authorize dialog lists it first (log in with e-mail as username).
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: { password: { tokenUrl: '/api/v1/auth/login', scopes: {} } },
        },
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
    },
    paths,
  });
}
