import { parseIfMatch } from '../conditional.js';
import type { Middleware } from './types.js';

/**
 * Conditional requests (RFC 9110 §13): parses `If-Match` into `requestState.ifMatch`, the
 * versions it accepts (null when absent or `*`), for routes that declare the header; the
 * handler passes them to its conditional write, which answers 412 when the current version
 * is not among them. Runs after validation, so the header's form is already checked there.
 * Errors: `BadRequest` (400) for a header that is not `*` or a list of entity tags.
 */
export function conditionalRequest(): Middleware {
  return {
    before: (request) => {
      request.context.requestState.ifMatch = parseIfMatch(request.event.headers?.['if-match']);
    },
  };
}
