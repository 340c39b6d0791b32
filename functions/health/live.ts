import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.healthLive, async () => ({
  status: 200,
  body: { status: 'ok' },
}));
