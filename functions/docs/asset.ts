import { readDocsAsset } from '../../shared/docs/pages.js';
import { NotFound } from '../../shared/errors.js';
import { createHandler } from '../../shared/http/handler.js';
import { docsRoutes } from '../../shared/routes/docs.js';

export const handler = createHandler(docsRoutes.docsAsset, async ({ path }) => {
  const asset = await readDocsAsset(path.file);
  if (!asset) throw new NotFound('No such docs asset.');
  return {
    status: 200,
    body: asset.body,
    headers: { 'Content-Type': asset.contentType, 'Cache-Control': 'public, max-age=86400' },
  };
});
