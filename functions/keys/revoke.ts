import { revokeApiKey } from '../../shared/api-keys/service.js';
import { createHandler } from '../../shared/http/handler.js';
import { keysRoutes } from '../../shared/routes/keys.js';

export const handler = createHandler(keysRoutes.revokeApiKey, async ({ principal, path }) => {
  await revokeApiKey(principal, path.id);
  return { status: 204 };
});
