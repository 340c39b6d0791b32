/**
 * THE route table (DESIGN.md § One route table): every HTTP route, once. CDK makes one
 * Lambda and one API Gateway route per entry, the local gateway routes by it, `/openapi.json`
 * is generated from it and the tests iterate it. It imports schemas, never handlers.
 *
 * To add an endpoint: one entry here, one file under `functions/`, one service call.
 */
import * as z from 'zod';
import { AuditLogPage, AuditLogQuery } from './audit/schemas.js';
import {
  HealthStatus,
  HealthStatusUnavailable,
  JsonWebKeySet,
  Liveness,
} from './health/schemas.js';
import { compilePath, defineRoute, type HttpMethod, type RouteDefinition } from './http/route.js';
import { IfMatchHeaders } from './http/schemas.js';
import { InventoryPage, InventoryQuery, InventoryUpdateBody } from './inventory/schemas.js';
import {
  CreateNoteBody,
  ListNotesQuery,
  Note,
  NoteIdParams,
  NotePage,
  PatchNoteBody,
  ReplaceNoteBody,
} from './notes/schemas.js';
import { rateLimitPolicies as limits } from './rate-limits.js';
import {
  LoginBody,
  LoginForm,
  LogoutBody,
  RefreshBody,
  RefreshForm,
  RegisterBody,
  TokenResponse,
  User,
} from './users/schemas.js';

const html = { mediaType: 'text/html' } as const;
const ETAG = 'Strong entity tag of the note version, `"<version>"`; send it back in If-Match.';

export const routes = {
  healthCheck: defineRoute({
    method: 'GET',
    path: '/health',
    function: 'health/check',
    auth: 'public',
    database: true,
    rateLimit: null,
    summary: 'Readiness: probes the database (and Redis when configured), each within 1 s',
    tag: 'operations',
    responses: { 200: HealthStatus, 503: HealthStatusUnavailable },
  }),
  healthLive: defineRoute({
    method: 'GET',
    path: '/health/live',
    function: 'health/live',
    auth: 'public',
    database: false,
    rateLimit: null,
    summary: 'Liveness: answers without touching any dependency',
    tag: 'operations',
    responses: { 200: Liveness },
  }),
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
    request: { path: z.object({ file: z.string().max(100) }) },
    responses: { 200: { mediaType: 'text/*' } },
  }),
  jwks: defineRoute({
    method: 'GET',
    path: '/.well-known/jwks.json',
    function: 'auth/jwks',
    auth: 'public',
    database: false,
    rateLimit: limits.public,
    summary: 'Public keys that verify access tokens (RFC 7517 JWK Set)',
    tag: 'auth',
    responses: { 200: JsonWebKeySet },
  }),
  register: defineRoute({
    method: 'POST',
    path: '/api/v1/auth/register',
    function: 'auth/register',
    errors: [409],
    auth: 'public',
    database: true,
    rateLimit: limits.register,
    summary: 'Create an account',
    description: 'E-mail is stored lower-cased and unique; 409 when it is taken.',
    tag: 'auth',
    request: { body: RegisterBody },
    responses: { 201: User },
    responseHeaders: { Location: 'URL of the current user, `/api/v1/users/me`.' },
  }),
  login: defineRoute({
    method: 'POST',
    path: '/api/v1/auth/login',
    function: 'auth/login',
    errors: [401],
    auth: 'public',
    database: true,
    signsTokens: true,
    rateLimit: limits.login,
    summary: 'Exchange e-mail and password for an access token',
    description:
      'JSON `{email, password}` or the OAuth 2.0 password-grant form `username=…&password=…`. ' +
      'Unknown e-mail and wrong password give the same 401.',
    tag: 'auth',
    request: { body: LoginBody, form: LoginForm },
    responses: { 200: TokenResponse },
  }),
  refresh: defineRoute({
    method: 'POST',
    path: '/api/v1/auth/refresh',
    function: 'auth/refresh',
    errors: [401],
    auth: 'public',
    database: true,
    signsTokens: true,
    rateLimit: limits.refresh,
    summary: 'Exchange a refresh token for a new token pair (rotation)',
    description:
      'JSON `{refresh_token}` or the OAuth 2.0 refresh form `grant_type=refresh_token&' +
      'refresh_token=…`. Refresh tokens are single use. Presenting one that was already used ' +
      'revokes its whole family (every token descended from the same login): 401, log in again.',
    tag: 'auth',
    request: { body: RefreshBody, form: RefreshForm },
    responses: { 200: TokenResponse },
  }),
  logout: defineRoute({
    method: 'POST',
    path: '/api/v1/auth/logout',
    function: 'auth/logout',
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Log out: this access token and the given refresh token family stop working',
    tag: 'auth',
    request: { body: LogoutBody },
    responses: { 204: null },
  }),
  me: defineRoute({
    method: 'GET',
    path: '/api/v1/users/me',
    function: 'users/me',
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'The signed-in user',
    tag: 'users',
    responses: { 200: User },
  }),
  createNote: defineRoute({
    method: 'POST',
    path: '/api/v1/notes',
    function: 'notes/create',
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Create a note',
    tag: 'notes',
    request: { body: CreateNoteBody },
    responses: { 201: Note },
    responseHeaders: { Location: 'URL of the new note.', ETag: ETAG },
  }),
  listNotes: defineRoute({
    method: 'GET',
    path: '/api/v1/notes',
    function: 'notes/list',
    errors: [400],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: "List the caller's notes",
    description:
      'Keyset pagination: pass `next_cursor` back as `cursor` with the same filters ' +
      '(a cursor from other filters is 400). Ties are broken by id, so pages are stable. ' +
      'Unknown query parameters are ignored.',
    tag: 'notes',
    request: { query: ListNotesQuery },
    responses: { 200: NotePage },
    responseHeaders: {
      'X-Cache': '`hit`, `miss` or `bypass` (Redis unavailable): how the page was served.',
    },
  }),
  getNote: defineRoute({
    method: 'GET',
    path: '/api/v1/notes/{id}',
    function: 'notes/get',
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Read a note (archived notes stay readable)',
    tag: 'notes',
    request: { path: NoteIdParams },
    responses: { 200: Note },
    responseHeaders: { ETag: ETAG },
  }),
  replaceNote: defineRoute({
    method: 'PUT',
    path: '/api/v1/notes/{id}',
    function: 'notes/replace',
    errors: [400, 404, 409, 412],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Replace a note (title and content both required)',
    description: 'Optional `If-Match: "<version>"`: 412 when stale. 409 when archived.',
    tag: 'notes',
    request: { path: NoteIdParams, headers: IfMatchHeaders, body: ReplaceNoteBody },
    responses: { 200: Note },
    responseHeaders: { ETag: ETAG },
  }),
  updateNote: defineRoute({
    method: 'PATCH',
    path: '/api/v1/notes/{id}',
    function: 'notes/update',
    errors: [400, 404, 409, 412],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Change some fields of a note',
    description: 'At least one of title, content. Same If-Match and 409 rules as PUT.',
    tag: 'notes',
    request: { path: NoteIdParams, headers: IfMatchHeaders, body: PatchNoteBody },
    responses: { 200: Note },
    responseHeaders: { ETag: ETAG },
  }),
  archiveNote: defineRoute({
    method: 'DELETE',
    path: '/api/v1/notes/{id}',
    function: 'notes/archive',
    publishes: ['audit'],
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Archive a note (soft delete; idempotent)',
    tag: 'notes',
    request: { path: NoteIdParams },
    responses: { 204: null },
  }),
  restoreNote: defineRoute({
    method: 'POST',
    path: '/api/v1/notes/restore/{id}',
    function: 'notes/restore',
    publishes: ['audit'],
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Restore an archived note (restoring an active note changes nothing)',
    tag: 'notes',
    request: { path: NoteIdParams },
    responses: { 200: Note },
    responseHeaders: { ETag: ETAG },
  }),
  inventoryUpdate: defineRoute({
    method: 'POST',
    path: '/api/v1/inventory/update',
    function: 'inventory/update',
    auth: 'admin',
    database: true,
    rateLimit: limits.inventoryUpdate,
    summary: 'Store 1–1000 inventory records, all or none',
    description:
      'One statement: either every item is stored or none is; committed before the 201. ' +
      'Timestamps without an offset are UTC.',
    tag: 'inventory',
    request: { body: InventoryUpdateBody },
    responses: { 201: null },
  }),
  inventoryQuery: defineRoute({
    method: 'GET',
    path: '/api/v1/inventory/query',
    function: 'inventory/query',
    auth: 'user',
    database: true,
    rateLimit: limits.inventoryQuery,
    summary: "A product's records in a time range, oldest first",
    description:
      'Bounds are inclusive; ordered by timestamp then id (stable when timestamps tie); ' +
      '`count` is the number of items on this page.',
    tag: 'inventory',
    request: { query: InventoryQuery },
    responses: { 200: InventoryPage },
  }),
  auditLog: defineRoute({
    method: 'GET',
    path: '/api/v1/admin/audit-log',
    function: 'admin/audit-log',
    errors: [400],
    auth: 'admin',
    database: true,
    rateLimit: limits.default,
    summary: 'The audit log, newest first (admins)',
    description:
      'Each event is recorded exactly once however often SQS delivers it. Filters: `action`, ' +
      '`actor_id`; keyset pagination with `cursor` (bound to the filters).',
    tag: 'admin',
    request: { query: AuditLogQuery },
    responses: { 200: AuditLogPage },
  }),
} satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof routes;

/** Every route, as a list. */
export const routeList: RouteDefinition[] = Object.values(routes);

/**
 * The function that answers what no route matches (404, or 405 with `Allow`). CDK wires it
 * as the HTTP API's `$default` route; the local gateway calls it the same way.
 */
export const fallbackRoute = defineRoute({
  method: 'GET',
  path: '/{proxy+}',
  function: 'system/fallback',
  auth: 'public',
  database: false,
  rateLimit: limits.public,
  summary: 'Unknown path (404) or wrong method on a known path (405 with Allow)',
  tag: 'operations',
  hidden: true,
  responses: {},
});

const matchers = routeList.map((route) => ({ route, match: compilePath(route.path) }));

/**
 * Resolves a request to a route: `{route, params}` when method and path match,
 * `{allow}` when only the path matches (405), or null (404). `HEAD` resolves to the `GET`
 * route of the path (API.md: every GET answers HEAD; RFC 9110 §9.3.2). `path` is the raw,
 * still percent-encoded path, matched as API Gateway does: no dot-segment resolution, no
 * decoding before matching (so `%2F` stays inside one segment); parameters come out decoded.
 */
export function resolveRoute(
  method: string,
  path: string,
): { route: RouteDefinition; params: Record<string, string> } | { allow: HttpMethod[] } | null {
  const wanted = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const allow: HttpMethod[] = [];
  for (const { route, match } of matchers) {
    const params = match(path);
    if (!params) continue;
    if (route.method === wanted) return { route, params };
    allow.push(route.method);
  }
  return allow.length ? { allow } : null;
}
