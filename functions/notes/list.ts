import { createHandler } from '../../shared/http/handler.js';
import { listNotes } from '../../shared/notes/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.listNotes, async ({ principal, query }) => {
  const { page, cache } = await listNotes(principal.userId, query);
  return { status: 200, body: page, headers: { 'X-Cache': cache } };
});
