import { createHandler } from '../../shared/http/handler.js';
import { archiveNote } from '../../shared/notes/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.archiveNote, async ({ principal, path }) => {
  await archiveNote(principal.userId, path.id);
  return { status: 204 };
});
