/**
 * The one function of the three API-key routes (see `shared/routes/keys.ts`): each has its
 * own `createHandler` stack, and API Gateway's method picks it.
 */
import { createApiKey, listApiKeys, revokeApiKey } from '../../shared/api-keys/service.js';
import { createHandler, type HttpHandler } from '../../shared/http/handler.js';
import { keysRoutes } from '../../shared/routes/keys.js';

const create = createHandler(keysRoutes.createApiKey, async ({ principal, body }) => ({
  status: 201,
  body: await createApiKey(principal, body),
}));

const list = createHandler(keysRoutes.listApiKeys, async ({ principal }) => ({
  status: 200,
  body: await listApiKeys(principal),
}));

const revoke = createHandler(keysRoutes.revokeApiKey, async ({ principal, path }) => {
  await revokeApiKey(principal, path.id);
  return { status: 204 };
});

export const handler: HttpHandler = (event, context) => {
  const method = event.requestContext.http.method.toUpperCase();
  if (method === 'POST') return create(event, context);
  if (method === 'DELETE') return revoke(event, context);
  return list(event, context);
};
