import { versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { restoreNote } from '../../shared/notes/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.restoreNote, async ({ principal, path }) => {
  const note = await restoreNote(principal.userId, path.id);
  return { status: 200, body: note, headers: { ETag: versionETag(note.version) } };
});
