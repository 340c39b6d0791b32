import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { getNote } from '../../shared/notes/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.getNote, async ({ principal, path }) => {
  const note = await getNote(principal.userId, path.id);
  return { status: 200, body: note, headers: { ETag: versionETag(note.version) } };
});
