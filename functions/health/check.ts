import { checkHealth } from '../../shared/health/service.js';
import { createHandler } from '../../shared/http/handler.js';
import { healthRoutes } from '../../shared/routes/health.js';

export const handler = createHandler(healthRoutes.healthCheck, async () => {
  const health = await checkHealth();
  if (health.status === 'ok') return { status: 200, body: health };
  return { status: 503, body: health, headers: { 'Retry-After': '5' } };
});
