import { createHandler } from '../../shared/http/handler.js';
import { archiveNote } from '../../shared/notes/service.js';
import { notesRoutes } from '../../shared/routes/notes.js';

export const handler = createHandler(notesRoutes.archiveNote, async ({ principal, path }) => {
  await archiveNote(principal.userId, path.id);
  return { status: 204 };
});
