/**
 * Opaque keyset cursors bound to the filters of the list they came from: base64url JSON of
 * `{f: fingerprint of the filters, v: the last row's sort value as text, i: its id}`. A
 * cursor from other filters, or a malformed one, is a 400 (API.md § Conventions). The cursor
 * is not signed: a client may build one for any position, which only skips rows it may see
 * anyway (the caller's scope is resolved on the server, never read from the cursor). Platform
 * neutral, for every domain's lists.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { BadRequest } from './errors.js';
import { toUtcTimestamp } from './schemas.js';

/** Where a page ended: the last row's sort value (text) and id, the keyset tie-breaker. */
export interface KeysetPosition {
  value: string;
  id: string;
}

/** How a cursor's sort value is checked before it reaches SQL: null refuses it. */
export type CursorValue = (value: string) => string | null;

/** A UTC (`Z`) timestamp the shared `Timestamp` rule accepts, in its fixed form. */
export const timestampValue: CursorValue = (value) =>
  value.endsWith('Z') ? toUtcTimestamp(value) : null;
/** A non-negative decimal (a `numeric` sort value such as an order total). */
export const decimalValue: CursorValue = (value) =>
  /^[0-9]{1,13}(\.[0-9]{1,2})?$/.test(value) ? value : null;
/** Any text PostgreSQL `text` can compare (no U+0000). */
export const textValue: CursorValue = (value) => (value.includes('\u0000') ? null : value);

const Payload = z.strictObject({
  f: z.string().check(z.length(16)),
  v: z.string().check(z.maxLength(1000)),
  i: z.uuid(),
});

function fingerprint(filters: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
}

/** Encodes `position` for the list whose normalised filters are `filters` (any JSON). */
export function encodeKeysetCursor(filters: readonly unknown[], position: KeysetPosition): string {
  const payload = { f: fingerprint(filters), v: position.value, i: position.id };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/**
 * Decodes a cursor made by `encodeKeysetCursor` for the same `filters`; its value passes
 * `check` (e.g. `timestampValue`) or the cursor is refused.
 * Errors: `BadRequest` (400) for a malformed cursor or one made for other filters.
 */
export function decodeKeysetCursor(
  filters: readonly unknown[],
  cursor: string,
  check: CursorValue,
): KeysetPosition {
  const malformed = 'The cursor is malformed. Use next_cursor from a previous page.';
  let payload: z.output<typeof Payload>;
  try {
    payload = Payload.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new BadRequest(malformed);
  }
  if (payload.f !== fingerprint(filters)) {
    throw new BadRequest('The cursor belongs to other filters. Start again without a cursor.');
  }
  const value = check(payload.v);
  if (value === null) throw new BadRequest(malformed);
  return { value, id: payload.i };
}

/**
 * Splits a keyset query's `limit + 1` rows into the page (the first `limit`) and the cursor
 * after its last row (`sortValue` of it and its id, for `filters`), or null when no row
 * follows: the one extra row says whether another page exists without a count.
 */
export function keysetPage<Row extends { id: string }>(
  rows: Row[],
  limit: number,
  filters: readonly unknown[],
  sortValue: (row: Row) => string,
): { rows: Row[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page,
    next_cursor:
      rows.length > limit && last
        ? encodeKeysetCursor(filters, { value: sortValue(last), id: last.id })
        : null,
  };
}
