import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { BadRequest } from '../errors.js';
import { toUtcTimestamp } from '../schemas.js';
import type { ListNotesQuery } from './schemas.js';

/** Where a page ended: the last row's sort value (text) and id, the keyset tie-breaker. */
export interface KeysetPosition {
  value: string;
  id: string;
}

const CursorPayload = z.strictObject({
  f: z.string().check(z.length(16)),
  v: z.string().check(z.maxLength(1000)),
  i: z.uuid(),
});

/**
 * A cursor's timestamp in the fixed UTC form of the shared `Timestamp` rule, or null. The
 * notes query writes `YYYY-MM-DDTHH:MM:SS.ffffffZ`; a tampered value is accepted only if it
 * is a UTC (`Z`) timestamp that rule accepts, so the `::timestamptz` cast in the query never
 * fails (month 13, February 30, year 0 or no zone are a 400, not a 500).
 */
function cursorTimestamp(value: string): string | null {
  return value.endsWith('Z') ? toUtcTimestamp(value) : null;
}

/** A cursor's title, or null when it holds U+0000 (PostgreSQL `text` cannot compare it). */
function cursorTitle(value: string): string | null {
  return value.includes('\u0000') ? null : value;
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
 * Decodes a cursor made by `encodeCursor` for the same filters; a timestamp value comes back
 * in the fixed UTC form (`YYYY-MM-DDTHH:MM:SS.ffffffZ`).
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
  const value = query.sort === 'title' ? cursorTitle(payload.v) : cursorTimestamp(payload.v);
  if (value === null) {
    throw new BadRequest('The cursor is malformed. Use next_cursor from a previous page.');
  }
  return { value, id: payload.i };
}
