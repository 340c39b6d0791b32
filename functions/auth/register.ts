import { createHandler } from '../../shared/http/handler.js';
import { authRoutes } from '../../shared/routes/auth.js';
import { usersRoutes } from '../../shared/routes/users.js';
import { register } from '../../shared/users/service.js';

export const handler = createHandler(authRoutes.register, async ({ body }) => ({
  status: 201,
  body: await register(body),
  headers: { Location: usersRoutes.me.path },
}));
