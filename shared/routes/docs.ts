/** Routes of the API's own documentation (OpenAPI, Swagger UI, ReDoc); gathered by `./index.ts`. */
import * as z from 'zod/mini';
import { defineRoute, type RouteDefinition } from '../http/route.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';

const html = { mediaType: 'text/html' } as const;

export const docsRoutes = {
  openapi: defineRoute({
    method: 'GET',
    path: '/openapi.json',
    function: 'docs/openapi',
    auth: 'public',
    database: false,
    rateLimit: limits.public,
    summary: 'This OpenAPI 3.1 document, generated from the route table',
    tag: 'operations',
    responses: { 200: { mediaType: 'application/json' } },
  }),
  swaggerUi: defineRoute({
    method: 'GET',
    path: '/docs',
    function: 'docs/swagger-ui',
    auth: 'public',
    database: false,
    rateLimit: limits.public,
    summary: 'Interactive API docs (Swagger UI)',
    tag: 'operations',
    responses: { 200: html },
  }),
  redoc: defineRoute({
    method: 'GET',
    path: '/redoc',
    function: 'docs/redoc',
    auth: 'public',
    database: false,
    rateLimit: limits.public,
    summary: 'API reference (ReDoc)',
    tag: 'operations',
    responses: { 200: html },
  }),
  docsAsset: defineRoute({
    method: 'GET',
    path: '/docs/assets/{file}',
    function: 'docs/asset',
    errors: [404],
    auth: 'public',
    database: false,
    rateLimit: limits.public,
    summary: 'Static files of the docs pages (from npm packages, no CDN)',
    tag: 'operations',
    hidden: true,
    request: { path: z.object({ file: z.string().check(z.maxLength(100)) }) },
    responses: { 200: { mediaType: 'text/*' } },
  }),
} satisfies Record<string, RouteDefinition>;
