import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';
import { refresh } from '../../shared/users/service.js';

export const handler = createHandler(routes.refresh, async ({ body }) => ({
  status: 200,
  body: await refresh(body.refresh_token),
}));
