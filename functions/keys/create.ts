import { createApiKey } from '../../shared/api-keys/service.js';
import { createHandler } from '../../shared/http/handler.js';
import { keysRoutes } from '../../shared/routes/keys.js';

export const handler = createHandler(keysRoutes.createApiKey, async ({ principal, body }) => ({
  status: 201,
  body: await createApiKey(principal, body),
}));
