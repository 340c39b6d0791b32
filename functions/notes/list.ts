import { createHandler } from '../../shared/http/handler.js';
import { listNotes } from '../../shared/notes/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.listNotes, async ({ principal, query }) => ({
  status: 200,
  body: await listNotes(principal.userId, query),
}));
