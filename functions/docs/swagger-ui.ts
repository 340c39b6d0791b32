import { swaggerUiPage } from '../../shared/docs/pages.js';
import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(
  routes.swaggerUi,
  async () => ({
    status: 200,
    body: swaggerUiPage.html,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'public, max-age=300' },
  }),
  { contentSecurityPolicy: swaggerUiPage.contentSecurityPolicy },
);
