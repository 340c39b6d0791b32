import { createHandler } from '../../shared/http/handler.js';
import { usersRoutes } from '../../shared/routes/users.js';
import { getUser } from '../../shared/users/service.js';

export const handler = createHandler(usersRoutes.me, async ({ principal }) => ({
  status: 200,
  body: await getUser(principal.userId),
}));
