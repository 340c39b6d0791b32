import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { createNote } from '../../shared/notes/service.js';
import { notesRoutes } from '../../shared/routes/notes.js';

export const handler = createHandler(notesRoutes.createNote, async ({ principal, body }) => {
  const note = await createNote(principal.userId, body);
  return {
    status: 201,
    body: note,
    headers: { Location: `/api/v1/notes/${note.id}`, ETag: versionETag(note.version) },
  };
});
