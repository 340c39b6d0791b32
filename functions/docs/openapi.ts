import { buildOpenApiDocument } from '../../shared/docs/openapi.js';
import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';

const document = JSON.stringify(
  buildOpenApiDocument(routes, {
    title: 'Notes API',
    version: '1.0.0',
    description:
      'Notes with JWT auth, soft delete and keyset pagination. Errors are RFC 9457 problem ' +
      'details with a `request_id`. Unknown body fields are rejected (422).',
  }),
);

export const handler = createHandler(routes.openapi, async () => ({
  status: 200,
  body: document,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
}));
