import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';
import { register } from '../../shared/users/service.js';

export const handler = createHandler(routes.register, async ({ body }) => ({
  status: 201,
  body: await register(body),
  headers: { Location: routes.me.path },
}));
