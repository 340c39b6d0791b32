import { createHandler } from '../../shared/http/handler.js';
import { authRoutes } from '../../shared/routes/auth.js';
import { logout } from '../../shared/users/service.js';

export const handler = createHandler(authRoutes.logout, async ({ principal, body }) => {
  await logout(principal, body?.refresh_token);
  return { status: 204 };
});
