import { createHandler } from '../../shared/http/handler.js';
import { listNotes } from '../../shared/notes/service.js';
import { notesRoutes } from '../../shared/routes/notes.js';

export const handler = createHandler(notesRoutes.listNotes, async ({ principal, query }) => {
  const { page, cache } = await listNotes(principal.userId, query);
  return { status: 200, body: page, headers: { 'X-Cache': cache } };
});
