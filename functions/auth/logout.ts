import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';
import { logout } from '../../shared/users/service.js';

export const handler = createHandler(routes.logout, async ({ principal, body }) => {
  await logout(principal, body?.refresh_token);
  return { status: 204 };
});
