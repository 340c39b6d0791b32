import { listApiKeys } from '../../shared/api-keys/service.js';
import { createHandler } from '../../shared/http/handler.js';
import { keysRoutes } from '../../shared/routes/keys.js';

export const handler = createHandler(keysRoutes.listApiKeys, async ({ principal }) => ({
  status: 200,
  body: await listApiKeys(principal),
}));
