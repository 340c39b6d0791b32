import { redocPage } from '../../shared/docs/pages.js';
import { createHandler } from '../../shared/http/handler.js';
import { docsRoutes } from '../../shared/routes/docs.js';

export const handler = createHandler(
  docsRoutes.redoc,
  async () => ({
    status: 200,
    body: redocPage.html,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'public, max-age=300' },
  }),
  { contentSecurityPolicy: redocPage.contentSecurityPolicy },
);
