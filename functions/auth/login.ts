import { createHandler } from '../../shared/http/handler.js';
import { authRoutes } from '../../shared/routes/auth.js';
import { login } from '../../shared/users/service.js';

export const handler = createHandler(authRoutes.login, async ({ body, sourceIp }) => {
  const email = 'username' in body ? body.username : body.email;
  return { status: 200, body: await login({ email, password: body.password }, { ip: sourceIp }) };
});
