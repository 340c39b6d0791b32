import { parseIfMatch, versionETag } from '../../shared/http/conditional.js';
import { createHandler } from '../../shared/http/handler.js';
import { updateNote } from '../../shared/notes/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(
  routes.updateNote,
  async ({ principal, path, body, headers }) => {
    const expected = parseIfMatch(headers['if-match']);
    const note = await updateNote(principal.userId, path.id, body, expected);
    return { status: 200, body: note, headers: { ETag: versionETag(note.version) } };
  },
);
