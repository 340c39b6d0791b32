import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { updateNote } from '../../shared/notes/service.js';
import { notesRoutes } from '../../shared/routes/notes.js';

export const handler = createHandler(
  notesRoutes.updateNote,
  async ({ principal, path, body, ifMatch }) => {
    const note = await updateNote(principal.userId, path.id, body, ifMatch);
    return { status: 200, body: note, headers: { ETag: versionETag(note.version) } };
  },
);
