import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';
import { getUser } from '../../shared/users/service.js';

export const handler = createHandler(routes.me, async ({ principal }) => ({
  status: 200,
  body: await getUser(principal.userId),
}));
