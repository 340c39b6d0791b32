/**
 * What a 2xx answer must say about the request it answers, route by route (API.md): a note
 * that was written holds what was sent and its `ETag` and `Location` name it; a page keeps
 * its filters, limits, order and bounds; a new user is who registered. These go beyond the
 * schema check of `contractViolations`, which only says the body has the right shape.
 */
import type { ParsedInput } from './fuzz-contract.js';
import type { WireResponse } from './fuzz-http.js';

/** Who asked: the user id behind the token, when the caller has one. */
export interface SemanticContext {
  userId?: string;
}

type Check = (input: ParsedInput, response: WireResponse, context: SemanticContext) => string[];

// biome-ignore lint/suspicious/noExplicitAny: bodies already passed their zod schema
type Json = any;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** The fixed UTC form the API writes (`2024-01-01T10:00:00.000000Z`), which sorts as text. */
const FIXED_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function header(response: WireResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Stored text equals what was sent; a lone surrogate, which UTF-8 cannot hold, as U+FFFD. */
function stored(sent: string, got: string): boolean {
  return sent.replace(LONE_SURROGATE, '\ufffd') === got;
}

/** `a` before or at `b` in time: as text in the fixed UTC form, else by `Date.parse`. */
function notAfter(a: string, b: string): boolean {
  if (FIXED_UTC.test(a) && FIXED_UTC.test(b)) return a <= b;
  return Date.parse(a) <= Date.parse(b);
}

function noteChecks(note: Json, response: WireResponse): string[] {
  const violations: string[] = [];
  if (header(response, 'etag') !== `"${note.version}"`) {
    violations.push(`ETag ${header(response, 'etag')} does not name version ${note.version}`);
  }
  if (note.archived !== (note.archived_at !== null)) {
    violations.push('archived and archived_at disagree');
  }
  if (!notAfter(note.created_at, note.updated_at)) violations.push('updated_at before created_at');
  return violations;
}

/** A written note holds the title and content that were sent. */
function holdsWhatWasSent(note: Json, body: Json): string[] {
  const violations: string[] = [];
  for (const field of ['title', 'content'] as const) {
    if (typeof body?.[field] === 'string' && !stored(body[field], note[field])) {
      violations.push(`${field} not stored as sent`);
    }
  }
  return violations;
}

const noteAt: Check = (input, response) => {
  const note = response.body as Json;
  const violations = noteChecks(note, response);
  if (note.id !== String(input.path.id).toLowerCase())
    violations.push('a note other than the one named');
  return violations;
};

const CHECKS: Record<string, Check> = {
  createNote: (input, response) => {
    const note = response.body as Json;
    const violations = [...noteChecks(note, response), ...holdsWhatWasSent(note, input.body)];
    if (header(response, 'location') !== `/api/v1/notes/${note.id}`) {
      violations.push(`Location ${header(response, 'location')} does not name the note`);
    }
    if (note.version !== 1 || note.archived) violations.push('a new note is not version 1, active');
    return violations;
  },
  getNote: noteAt,
  replaceNote: (input, response) => {
    const note = response.body as Json;
    const violations = [...noteAt(input, response, {}), ...holdsWhatWasSent(note, input.body)];
    if (note.archived) violations.push('an archived note was replaced (409 expected)');
    return violations;
  },
  updateNote: (input, response) => {
    const note = response.body as Json;
    const violations = [...noteAt(input, response, {}), ...holdsWhatWasSent(note, input.body)];
    if (note.archived) violations.push('an archived note was changed (409 expected)');
    return violations;
  },
  restoreNote: (input, response) => {
    const violations = noteAt(input, response, {});
    if ((response.body as Json).archived) violations.push('still archived after a restore');
    return violations;
  },
  listNotes: (input, response) => {
    const page = response.body as Json;
    const query = input.query as Json;
    const violations: string[] = [];
    if (page.limit !== query.limit) violations.push(`limit ${page.limit}, asked ${query.limit}`);
    if (page.items.length > query.limit) violations.push(`${page.items.length} items > limit`);
    if (!['hit', 'miss', 'bypass'].includes(header(response, 'x-cache') ?? '')) {
      violations.push(`X-Cache ${header(response, 'x-cache')}`);
    }
    for (const note of page.items) {
      if (query.archived === 'false' && note.archived) violations.push('an archived note listed');
      if (query.archived === 'true' && !note.archived) violations.push('an active note listed');
    }
    if (query.sort !== 'title') {
      for (let i = 1; i < page.items.length; i++) {
        const [a, b] = [page.items[i - 1][query.sort], page.items[i][query.sort]];
        if (query.order === 'desc' ? !notAfter(b, a) : !notAfter(a, b)) {
          violations.push(`not ordered by ${query.sort} ${query.order}`);
          break;
        }
      }
    }
    // ILIKE on ASCII: a case-insensitive substring of the title or the content.
    if (typeof query.q === 'string' && /^[\x20-\x7e]+$/.test(query.q)) {
      const q = query.q.toLowerCase();
      for (const note of page.items) {
        if (
          !`${note.title}`.toLowerCase().includes(q) &&
          !`${note.content}`.toLowerCase().includes(q)
        ) {
          violations.push(`a note that does not match q=${JSON.stringify(query.q)}`);
          break;
        }
      }
    }
    return violations;
  },
  inventoryQuery: (input, response) => {
    const page = response.body as Json;
    const query = input.query as Json;
    const violations: string[] = [];
    if (page.count !== page.items.length)
      violations.push(`count ${page.count} ≠ ${page.items.length} items`);
    if (page.limit !== query.limit || page.offset !== query.offset) {
      violations.push(
        `limit/offset ${page.limit}/${page.offset}, asked ${query.limit}/${query.offset}`,
      );
    }
    if (page.items.length > query.limit) violations.push(`${page.items.length} items > limit`);
    for (const [i, item] of page.items.entries()) {
      if (item.productid !== query.productid) violations.push(`a record of ${item.productid}`);
      if (query.starttimestamp && !notAfter(query.starttimestamp, item.timestamp)) {
        violations.push(`${item.timestamp} before starttimestamp ${query.starttimestamp}`);
      }
      if (query.endtimestamp && !notAfter(item.timestamp, query.endtimestamp)) {
        violations.push(`${item.timestamp} after endtimestamp ${query.endtimestamp}`);
      }
      const before = page.items[i - 1];
      if (
        before &&
        !(
          notAfter(before.timestamp, item.timestamp) &&
          (before.timestamp !== item.timestamp || before.id < item.id)
        )
      ) {
        violations.push('not ordered by timestamp, then id');
      }
    }
    return [...new Set(violations)];
  },
  register: (input, response) => {
    const user = response.body as Json;
    const body = input.body as Json;
    const violations: string[] = [];
    if (user.email !== body.email) violations.push(`e-mail ${user.email}, sent ${body.email}`);
    if (body.name === undefined ? user.name !== null : !stored(body.name, user.name ?? '')) {
      violations.push('name not stored as sent');
    }
    if (user.role !== 'user') violations.push(`a new account with role ${user.role}`);
    if (header(response, 'location') !== '/api/v1/users/me') {
      violations.push(`Location ${header(response, 'location')}`);
    }
    return violations;
  },
  me: (_input, response, context) =>
    context.userId && (response.body as Json).id !== context.userId ? ['another user'] : [],
  auditLog: (input, response) => {
    const page = response.body as Json;
    const query = input.query as Json;
    const violations: string[] = [];
    if (page.items.length > query.limit) violations.push(`${page.items.length} items > limit`);
    for (const [i, entry] of page.items.entries()) {
      if (query.action && entry.action !== query.action)
        violations.push('an entry of another action');
      if (query.actor_id && entry.actor_id !== query.actor_id.toLowerCase()) {
        violations.push('an entry of another actor');
      }
      if (i > 0 && !(page.items[i - 1].id > entry.id)) violations.push('not newest first');
    }
    return [...new Set(violations)];
  },
  healthCheck: (_input, response) =>
    (response.body as Json).status === 'ok' ? [] : ['200 with a status other than ok'],
  jwks: (_input, response) => ((response.body as Json).keys.length ? [] : ['no keys']),
};

/**
 * How a 2xx answer of route `name` to `input` breaks what the route promises (empty when it
 * keeps it). Routes without checks here pass.
 */
export function semanticViolations(
  name: string,
  input: ParsedInput,
  response: WireResponse,
  context: SemanticContext,
): string[] {
  const check = CHECKS[name];
  return check ? check(input, response, context) : [];
}
