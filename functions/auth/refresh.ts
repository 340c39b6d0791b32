import { createHandler } from '../../shared/http/handler.js';
import { authRoutes } from '../../shared/routes/auth.js';
import { refresh } from '../../shared/users/service.js';

export const handler = createHandler(authRoutes.refresh, async ({ body }) => ({
  status: 200,
  body: await refresh(body.refresh_token),
}));
