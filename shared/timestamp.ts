/**
 * The timestamp rule itself: its limits, its messages and the conversion to UTC, from which
 * `shared/schemas.ts` builds the `Timestamp` schema every input uses.
 */
import { NEVER, type ParsePayload } from 'zod/v4/core';

/** Longest RFC 3339 timestamp accepted: `2024-01-01T10:00:00.123456+05:30` (32 chars). */
export const TIMESTAMP_MAX_LENGTH = 32;

/**
 * The shape of an accepted timestamp: RFC 3339 §5.6 `date-time` with the offset optional
 * (none means UTC), 1–6 fractional digits (PostgreSQL keeps microseconds), no leap second, and
 * an offset within ±15:59 (the widest `timestamptz` accepts). `T` and `Z` may be lower case
 * (RFC 3339 §5.6 note).
 */
export const TIMESTAMP_PATTERN =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?([Zz]|[+-](0\d|1[0-5]):[0-5]\d)?$/;

/** The message of a value that does not match `TIMESTAMP_PATTERN`. */
export const TIMESTAMP_PATTERN_MESSAGE =
  'An RFC 3339 timestamp such as 2024-01-01T10:00:00Z: seconds required, at most 6 ' +
  'fractional digits, offset within ±15:59 (none means UTC).';

const TIMESTAMP_PARTS =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))?$/;

/** First and last instant (UTC) we accept: years 0001–9999, what RFC 3339 and PostgreSQL share. */
const FIRST_INSTANT_MS = Date.parse('0001-01-01T00:00:00Z');
const END_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Converts an RFC 3339 timestamp matching `TIMESTAMP_PATTERN` to UTC in the fixed form
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds kept, so the text sorts like the instant).
 * Returns null when the date is not on the calendar (February 30) or the instant, once in UTC,
 * falls outside years 0001–9999 (PostgreSQL has no year 0 and RFC 3339 no year 10000).
 */
export function toUtcTimestamp(value: string): string | null {
  const parts = TIMESTAMP_PARTS.exec(value);
  if (!parts) return null;
  const [, y, mo, d, h, mi, s, fraction = '', sign, oh = '0', om = '0'] = parts;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d)); // not Date.UTC: it maps 0–99 to 19xx
  if (date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return null;
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const instant = date.getTime() - offsetMinutes * 60_000;
  if (instant < FIRST_INSTANT_MS || instant > END_INSTANT_MS) return null;
  return `${new Date(instant).toISOString().slice(0, 19)}.${fraction.padEnd(6, '0')}Z`;
}

/**
 * The transform step of a `Timestamp` schema, after its length and pattern checks: the UTC text
 * of `toUtcTimestamp`, or an issue (and zod's `NEVER`) when there is none.
 */
export function utcTimestampTransform(value: string, context: ParsePayload): string {
  const utc = toUtcTimestamp(value);
  if (utc === null) {
    context.issues.push({
      code: 'custom',
      input: value,
      message: 'Not a calendar date, or outside years 0001–9999 once converted to UTC.',
    });
    return NEVER;
  }
  return utc;
}
