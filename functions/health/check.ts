import { checkHealth } from '../../shared/health/service.js';
import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.healthCheck, async () => {
  const health = await checkHealth();
  return { status: health.status === 'ok' ? 200 : 503, body: health };
});
