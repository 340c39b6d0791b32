import { createHandler } from '../../shared/http/handler.js';
import { healthRoutes } from '../../shared/routes/health.js';

export const handler = createHandler(healthRoutes.healthLive, async () => ({
  status: 200,
  body: { status: 'ok' },
}));
