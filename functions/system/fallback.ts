import { MethodNotAllowed, NotFound } from '../../shared/errors.js';
import { createHandler } from '../../shared/http/handler.js';
import { resolveRoute } from '../../shared/routes/index.js';
import { fallbackRoute } from '../../shared/routes/system.js';

/** API Gateway's `$default` route: 404 for unknown paths, 405 with `Allow` for known ones. */
export const handler = createHandler(fallbackRoute, async ({ event }) => {
  const resolved = resolveRoute(event.requestContext.http.method, event.rawPath);
  if (resolved && 'allow' in resolved) throw new MethodNotAllowed(resolved.allow);
  throw new NotFound(`No route for ${event.requestContext.http.method} ${event.rawPath}.`);
});
