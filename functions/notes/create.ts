import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { createNote } from '../../shared/notes/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.createNote, async ({ principal, body }) => {
  const note = await createNote(principal.userId, body);
  return {
    status: 201,
    body: note,
    headers: { Location: `/api/v1/notes/${note.id}`, ETag: versionETag(note.version) },
  };
});
