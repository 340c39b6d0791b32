import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { getNote } from '../../shared/notes/service.js';
import { notesRoutes } from '../../shared/routes/notes.js';

export const handler = createHandler(notesRoutes.getNote, async ({ principal, path }) => {
  const note = await getNote(principal.userId, path.id);
  return { status: 200, body: note, headers: { ETag: versionETag(note.version) } };
});
