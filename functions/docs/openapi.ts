import packageJson from '../../package.json' with { type: 'json' };
import { buildOpenApiDocument } from '../../shared/docs/openapi.js';
import { createHandler } from '../../shared/http/handler.js';
import { docsRoutes } from '../../shared/routes/docs.js';
import { routes } from '../../shared/routes/index.js';

/** The document, built once per instance; `info.version` is the deployed package's version. */
const document = JSON.stringify(
  buildOpenApiDocument(routes, {
    title: 'Notes API',
    version: packageJson.version,
    description:
      'Notes with JWT auth, soft delete and keyset pagination, and inventory time series. ' +
      'Errors are RFC 9457 problem details with a `request_id`. Unknown body fields are ' +
      'rejected (422); no string may contain U+0000 (422). Timestamps in are RFC 3339 (no ' +
      'offset means UTC), timestamps out are UTC with `Z`.',
  }),
);

export const handler = createHandler(docsRoutes.openapi, async () => ({
  status: 200,
  body: document,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
}));
