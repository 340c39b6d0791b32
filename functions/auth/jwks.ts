import { getKeyRing } from '../../shared/auth/keys.js';
import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.jwks, async () => ({
  status: 200,
  body: (await getKeyRing()).publicJwks,
  headers: { 'Cache-Control': 'public, max-age=300' },
}));
