import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ADMIN_ONLY_SCOPES, scopesAllowedFor } from '../../shared/api-keys/schemas.js';
import { getSql } from '../../shared/db/client.js';
import { keyScopesOf, type RouteDefinition } from '../../shared/http/route.js';
import { type RouteName, routes } from '../../shared/routes/index.js';
import { useApi } from '../helpers/api.js';
import { createProduct, createProfile, placeOrder, uniqueSku } from '../helpers/orders.js';
import { createUser, type TestUser, uniqueEmail } from '../helpers/users.js';

// Uploads are presigned (no S3 call is made): a bucket name and credentials are enough.
Object.assign(process.env, {
  FILES_BUCKET: 'files',
  S3_ENDPOINT: 'http://127.0.0.1:9',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
});
const api = useApi();
const password = 'correct horse battery';

type Caller = 'anonymous' | 'user' | 'admin' | 'other user';
interface Cell {
  path: string;
  body?: unknown;
  /** A token for this cell only (logout spends the one it is given). */
  token?: string;
}
/**
 * A valid request for each route, made for one caller. `owner` owns the resources the
 * request names (a note); the matrix calls it as `owner`, `other user`, `admin`, anonymous.
 */
type Fixture = (context: { owner: TestUser; caller: TestUser | null; as: Caller }) => Promise<Cell>;

async function noteOf(owner: TestUser): Promise<string> {
  const note = await api.post('/api/v1/notes', { token: owner.token, body: { title: 'matrix' } });
  return note.body.id;
}
async function freshLogin(user: TestUser) {
  const response = await api.post('/api/v1/auth/login', {
    body: { email: user.email, password: user.password },
  });
  return response.body as { access_token: string; refresh_token: string };
}

let catalogAdmin: TestUser | undefined;
/** An admin of this file's own, who keeps the catalog the fixtures order from. */
async function adminOfCatalog(): Promise<TestUser> {
  catalogAdmin ??= await createUser(api, 'admin');
  return catalogAdmin;
}
async function productId(): Promise<string> {
  return (await createProduct(api, await adminOfCatalog())).id;
}
/** The customer profile of `user` (made on first use), its id. */
async function profileOf(user: TestUser): Promise<string> {
  return (await createProfile(api, user)).id;
}
async function orderOf(owner: TestUser): Promise<string> {
  await profileOf(owner);
  return (await placeOrder(api, owner, await productId())).id;
}

const EXPORT_JOB = { type: 'notes.export', params: { format: 'jsonl' } };
/**
 * A job of `owner` (queued: this file runs no queue, so it stays so), or one that `failed`
 * (set in the database: only a failed job can be retried).
 */
async function jobOf(owner: TestUser, status?: 'failed'): Promise<string> {
  const job = await api.post('/api/v1/jobs', { token: owner.token, body: EXPORT_JOB });
  expect(job.status, job.text).toBe(202);
  if (status) {
    await getSql()`UPDATE jobs SET status = ${status}, finished_at = now() WHERE id = ${job.body.id}`;
  }
  return job.body.id;
}

async function apiKeyOf(owner: TestUser): Promise<string> {
  const key = await api.post('/api/v1/api-keys', {
    token: owner.token,
    body: { name: 'matrix', scopes: ['notes:read'] },
  });
  return key.body.id;
}

/** One row per route. A route without a row fails the test: add its row with the route. */
const fixtures: Record<RouteName, Fixture> = {
  healthCheck: async () => ({ path: '/health' }),
  healthLive: async () => ({ path: '/health/live' }),
  openapi: async () => ({ path: '/openapi.json' }),
  swaggerUi: async () => ({ path: '/docs' }),
  redoc: async () => ({ path: '/redoc' }),
  docsAsset: async () => ({ path: '/docs/assets/swagger-ui.css' }),
  jwks: async () => ({ path: '/.well-known/jwks.json' }),
  register: async () => ({
    path: '/api/v1/auth/register',
    body: { email: uniqueEmail('matrix'), password },
  }),
  login: async ({ owner }) => ({
    path: '/api/v1/auth/login',
    body: { email: owner.email, password },
  }),
  refresh: async ({ owner }) => ({
    path: '/api/v1/auth/refresh',
    body: { refresh_token: (await freshLogin(owner)).refresh_token },
  }),
  logout: async ({ caller }) => ({
    path: '/api/v1/auth/logout',
    ...(caller ? { token: (await freshLogin(caller)).access_token } : {}),
  }),
  me: async () => ({ path: '/api/v1/users/me' }),
  createNote: async () => ({ path: '/api/v1/notes', body: { title: 'matrix' } }),
  listNotes: async () => ({ path: '/api/v1/notes' }),
  getNote: async ({ owner }) => ({ path: `/api/v1/notes/${await noteOf(owner)}` }),
  replaceNote: async ({ owner }) => ({
    path: `/api/v1/notes/${await noteOf(owner)}`,
    body: { title: 'new', content: 'new' },
  }),
  updateNote: async ({ owner }) => ({
    path: `/api/v1/notes/${await noteOf(owner)}`,
    body: { title: 'new' },
  }),
  archiveNote: async ({ owner }) => ({ path: `/api/v1/notes/${await noteOf(owner)}` }),
  restoreNote: async ({ owner }) => ({ path: `/api/v1/notes/restore/${await noteOf(owner)}` }),
  inventoryUpdate: async () => ({
    path: '/api/v1/inventory/update',
    body: { items: [{ productid: 'MATRIX-1', quantity: 1, timestamp: '2024-01-01T00:00:00Z' }] },
  }),
  inventoryQuery: async () => ({ path: '/api/v1/inventory/query?productid=MATRIX-1' }),
  auditLog: async () => ({ path: '/api/v1/admin/audit-log' }),
  listProducts: async () => ({ path: '/api/v1/products' }),
  getProduct: async () => ({ path: `/api/v1/products/${await productId()}` }),
  createProduct: async () => ({
    path: '/api/v1/products',
    body: { sku: uniqueSku('MATRIX'), name: 'matrix', unit_price: '1.00' },
  }),
  updateProduct: async () => ({
    path: `/api/v1/products/${await productId()}`,
    body: { name: 'renamed' },
  }),
  getMyCustomer: async ({ caller }) => {
    if (caller) await profileOf(caller);
    return { path: '/api/v1/customers/me' };
  },
  // The caller's profile exists, so the PUT updates it (200; a first PUT creates, 201).
  putMyCustomer: async ({ caller }) => {
    if (caller) await profileOf(caller);
    return { path: '/api/v1/customers/me', body: { name: 'matrix' } };
  },
  createCustomer: async () => ({
    path: '/api/v1/customers',
    body: { name: 'matrix', email: uniqueEmail('customer') },
  }),
  listCustomers: async () => ({ path: '/api/v1/customers' }),
  getCustomer: async ({ owner }) => ({ path: `/api/v1/customers/${await profileOf(owner)}` }),
  updateCustomer: async ({ owner }) => ({
    path: `/api/v1/customers/${await profileOf(owner)}`,
    body: { name: 'renamed' },
  }),
  // Users order for their own customer; an admin names one (the owner's).
  createOrder: async ({ owner, caller, as }) => {
    const items = [{ product_id: await productId(), quantity: 1 }];
    if (as !== 'admin') {
      if (caller) await profileOf(caller);
      return { path: '/api/v1/orders', body: { items } };
    }
    return { path: '/api/v1/orders', body: { items, customer_id: await profileOf(owner) } };
  },
  listOrders: async () => ({ path: '/api/v1/orders' }),
  getOrder: async ({ owner }) => ({ path: `/api/v1/orders/${await orderOf(owner)}` }),
  transitionOrder: async ({ owner }) => ({
    path: `/api/v1/orders/${await orderOf(owner)}/transitions`,
    body: { status: 'cancelled' },
  }),
  deleteOrder: async ({ owner }) => ({ path: `/api/v1/orders/${await orderOf(owner)}` }),
  createApiKey: async () => ({
    path: '/api/v1/api-keys',
    body: { name: 'matrix', scopes: ['notes:read'] },
  }),
  listApiKeys: async () => ({ path: '/api/v1/api-keys' }),
  revokeApiKey: async ({ owner }) => ({ path: `/api/v1/api-keys/${await apiKeyOf(owner)}` }),
  submitJob: async () => ({ path: '/api/v1/jobs', body: EXPORT_JOB }),
  listJobs: async () => ({ path: '/api/v1/jobs' }),
  getJob: async ({ owner }) => ({ path: `/api/v1/jobs/${await jobOf(owner)}` }),
  retryJob: async ({ owner }) => ({ path: `/api/v1/jobs/${await jobOf(owner, 'failed')}/retry` }),
  cancelJob: async ({ owner }) => ({ path: `/api/v1/jobs/${await jobOf(owner)}/cancel` }),
  createUpload: async () => ({
    path: '/api/v1/uploads',
    body: { filename: 'stock.csv', content_type: 'text/csv', size: 100 },
  }),
};

/** Routes that declare more than one 2xx: the one the matrix's request gets. */
const SUCCESS: Partial<Record<RouteName, number>> = { putMyCustomer: 200 };

/** Routes where an admin reaches every user's resource (API.md § Orders), not only their own. */
const ADMIN_SEES_ALL = new Set<RouteName>(['getCustomer', 'getOrder', 'transitionOrder']);

/** Routes with `{id}` whose resource everyone signed in may read (the catalog). */
const SHARED_RESOURCES = new Set<RouteName>(['getProduct']);

/** Routes whose request names a resource owned by `owner` (so others see 404). */
const ownsResource = (name: RouteName, route: RouteDefinition) =>
  route.path.includes('{id}') && !SHARED_RESOURCES.has(name);

/** The route's success status: the one 2xx its entry declares (or `SUCCESS` names). */
function successStatus(name: RouteName, route: RouteDefinition): number {
  const chosen = SUCCESS[name];
  if (chosen) return chosen;
  const statuses = Object.keys(route.responses)
    .map(Number)
    .filter((s) => s >= 200 && s < 300);
  expect(statuses, `${route.path} declares one success status`).toHaveLength(1);
  return statuses[0] as number;
}

/** The status the contract promises to `caller` on `route`. */
function expected(name: RouteName, route: RouteDefinition, caller: Caller): number {
  if (route.auth === 'public') return successStatus(name, route);
  if (caller === 'anonymous') return 401;
  if (route.auth === 'admin') return caller === 'admin' ? successStatus(name, route) : 403;
  if (caller === 'user') return successStatus(name, route);
  if (caller === 'admin' && ADMIN_SEES_ALL.has(name)) return successStatus(name, route);
  return ownsResource(name, route) ? 404 : successStatus(name, route);
}

describe('roles matrix: every route × {anonymous, user, admin, other user}', () => {
  it('has a row for every route in the table', () => {
    expect(Object.keys(fixtures).sort()).toEqual(Object.keys(routes).sort());
  });

  for (const [name, route] of Object.entries(routes) as [RouteName, RouteDefinition][]) {
    it(`${route.method} ${route.path} (${route.auth})`, async () => {
      const [owner, admin, other] = await Promise.all([
        createUser(api),
        createUser(api, 'admin'),
        createUser(api),
      ]);
      const callers: [Caller, TestUser | null][] = [
        ['anonymous', null],
        ['user', owner],
        ['admin', admin],
        ['other user', other],
      ];
      for (const [caller, user] of callers) {
        const cell = await fixtures[name]({ owner, caller: user, as: caller });
        const token = cell.token ?? user?.token;
        const response = await api.request(route.method, cell.path, {
          ...(token ? { token } : {}),
          ...(cell.body !== undefined ? { body: cell.body } : {}),
        });
        const want = expected(name, route, caller);
        const label = `${caller} → ${route.method} ${cell.path}: ${response.status} ${response.text.slice(0, 120)}`;
        expect(response.status, label).toBe(want);
      }
    });
  }

  it('a random id is 404 for everyone signed in, like another user’s', async () => {
    const user = await createUser(api);
    expect((await api.get(`/api/v1/notes/${randomUUID()}`, { token: user.token })).status).toBe(
      404,
    );
  });
});

type KeyCaller = 'key with the scope' | 'key without it' | 'revoked key';

/**
 * What the contract promises a key on `route` (API.md § API keys): public routes never look
 * at it; a route without `apiKeyScope` takes tokens only (403, before any key lookup, so a
 * revoked key is 403 there too); else the owner's answer with the scope, 403 without, 401
 * when revoked.
 */
function expectedForKey(
  name: RouteName,
  route: RouteDefinition,
  caller: KeyCaller,
  ownerIsAdmin: boolean,
) {
  if (route.auth === 'public') return successStatus(name, route);
  if (!route.apiKeyScope) return 403;
  if (caller === 'revoked key') return 401;
  if (caller === 'key without it') return 403;
  return expected(name, route, ownerIsAdmin ? 'admin' : 'user');
}

describe('roles matrix, API keys: every route × {key with the scope, key without it, revoked key}', () => {
  for (const [name, route] of Object.entries(routes) as [RouteName, RouteDefinition][]) {
    it(`${route.method} ${route.path} (${keyScopesOf(route).join(' | ') || 'tokens only'})`, async () => {
      // The key's owner: an admin when only admins may hold the route's scope.
      const scopes = keyScopesOf(route);
      const scope = scopes[0];
      const ownerIsAdmin = scope !== undefined && ADMIN_ONLY_SCOPES.has(scope);
      const owner = await createUser(api, ownerIsAdmin ? 'admin' : 'user');
      const allowed = scopesAllowedFor(ownerIsAdmin ? 'admin' : 'user');
      const keyWith = async (scopes: string[]) => {
        const created = await api.post('/api/v1/api-keys', {
          token: owner.token,
          body: { name: 'matrix', scopes },
        });
        expect(created.status, created.text).toBe(201);
        return created.body as { id: string; key: string };
      };
      const withScope = await keyWith(scope ? [scope] : allowed);
      const without = await keyWith(allowed.filter((s) => !scopes.includes(s)));
      const revoked = await keyWith(scope ? [scope] : allowed);
      const gone = await api.delete(`/api/v1/api-keys/${revoked.id}`, { token: owner.token });
      expect(gone.status).toBe(204);
      const keys: [KeyCaller, string][] = [
        ['key with the scope', withScope.key],
        ['key without it', without.key],
        ['revoked key', revoked.key],
      ];
      for (const [caller, key] of keys) {
        const cell = await fixtures[name]({
          owner,
          caller: owner,
          as: ownerIsAdmin ? 'admin' : 'user',
        });
        const response = await api.request(route.method, cell.path, {
          headers: { 'x-api-key': key },
          ...(cell.body !== undefined ? { body: cell.body } : {}),
        });
        const want = expectedForKey(name, route, caller, ownerIsAdmin);
        const label = `${caller} → ${route.method} ${cell.path}: ${response.status} ${response.text.slice(0, 120)}`;
        expect(response.status, label).toBe(want);
      }
    });
  }
});
