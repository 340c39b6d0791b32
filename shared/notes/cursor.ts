import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BadRequest } from '../errors.js';
import type { ListNotesQuery } from './schemas.js';

/** Where a page ended: the last row's sort value (text) and id, the keyset tie-breaker. */
export interface KeysetPosition {
  value: string;
  id: string;
}

const CursorPayload = z.strictObject({
  f: z.string().length(16),
  v: z.string().max(1000),
  i: z.uuid(),
});

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/**
 * A timestamp the database accepts: the shape of `TIMESTAMP`, a real calendar instant (no
 * month 13 or February 30) and year 1 or later (PostgreSQL has no year 0). Anything else
 * would fail the `::timestamptz` cast in the query, a 500 instead of a 400.
 */
function isTimestamp(value: string): boolean {
  if (!TIMESTAMP.test(value) || value.startsWith('0000')) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 19) === value.slice(0, 19);
}

/** A short hash of the filters a cursor belongs to (sort, order, archived, q). */
function fingerprint(query: ListNotesQuery): string {
  const filters = JSON.stringify([query.sort, query.order, query.archived, query.q ?? null]);
  return createHash('sha256').update(filters).digest('base64url').slice(0, 16);
}

/** Encodes a keyset position for `query`'s filters as an opaque base64url string. */
export function encodeCursor(query: ListNotesQuery, position: KeysetPosition): string {
  const payload = { f: fingerprint(query), v: position.value, i: position.id };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/**
 * Decodes a cursor made by `encodeCursor` for the same filters.
 * Errors: `BadRequest` (400) for a malformed cursor or one made for other filters.
 */
export function decodeCursor(query: ListNotesQuery, cursor: string): KeysetPosition {
  let payload: z.output<typeof CursorPayload>;
  try {
    payload = CursorPayload.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new BadRequest('The cursor is malformed. Use next_cursor from a previous page.');
  }
  if (payload.f !== fingerprint(query)) {
    throw new BadRequest('The cursor belongs to other filters (sort, order, archived, q).');
  }
  const valid = query.sort === 'title' ? !payload.v.includes('\u0000') : isTimestamp(payload.v);
  if (!valid) {
    throw new BadRequest('The cursor is malformed. Use next_cursor from a previous page.');
  }
  return { value: payload.v, id: payload.i };
}
