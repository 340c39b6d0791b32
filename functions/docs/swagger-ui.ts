import { swaggerUiPage } from '../../shared/docs/pages.js';
import { createHandler } from '../../shared/http/handler.js';
import { docsRoutes } from '../../shared/routes/docs.js';

export const handler = createHandler(
  docsRoutes.swaggerUi,
  async () => ({
    status: 200,
    body: swaggerUiPage.html,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'public, max-age=300' },
  }),
  { contentSecurityPolicy: swaggerUiPage.contentSecurityPolicy },
);
