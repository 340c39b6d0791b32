/**
 * Shared zod primitives every domain builds its schemas from, so that one rule per input class
 * lives in one place: timestamps in and out, integers in query strings. Platform neutral (no
 * HTTP), so a domain may import it. The NUL rule for every string is not here: it is applied
 * to whole inputs by the HTTP validation step, so no new field can forget it.
 */
import * as z from 'zod';

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
 * A timestamp in a request: RFC 3339 (`TIMESTAMP_PATTERN`, at most `TIMESTAMP_MAX_LENGTH`
 * chars), a value without offset is UTC (never the server's zone), a real calendar date, years
 * 0001–9999 once in UTC. Output: the UTC text of `toUtcTimestamp`, which PostgreSQL's
 * `timestamptz` parses exactly and which compares as text like the instants it names.
 */
export const Timestamp = z
  .string()
  .max(TIMESTAMP_MAX_LENGTH)
  .regex(
    TIMESTAMP_PATTERN,
    'An RFC 3339 timestamp such as 2024-01-01T10:00:00Z: seconds required, at most 6 ' +
      'fractional digits, offset within ±15:59 (none means UTC).',
  )
  .transform((value, context) => {
    const utc = toUtcTimestamp(value);
    if (utc === null) {
      context.issues.push({
        code: 'custom',
        input: value,
        message: 'Not a calendar date, or outside years 0001–9999 once converted to UTC.',
      });
      return z.NEVER;
    }
    return utc;
  })
  .meta({
    description:
      'RFC 3339; without an offset it is UTC. Offset within ±15:59, up to 6 fractional ' +
      'digits (microseconds), years 0001–9999 once converted to UTC.',
    example: '2024-01-01T10:00:00Z',
  });

/** A timestamp in a response: RFC 3339 in UTC with `Z` (API.md § Conventions). */
export const UtcTimestamp = z.iso.datetime().meta({ example: '2024-01-01T10:00:00.000Z' });

const QUERY_INTEGER_MESSAGE = 'A whole number written with the digits 0-9 only.';

function digitsToInteger(min: number, max: number, fallback: number | undefined) {
  return z
    .string()
    .max(10, QUERY_INTEGER_MESSAGE)
    .regex(/^[0-9]+$/, QUERY_INTEGER_MESSAGE)
    .transform(Number)
    .pipe(z.int().min(min).max(max))
    .meta({
      // Documented as what it means, an integer parameter, rather than as its digit string;
      // zod leaves out the default of a transformed input, so it is put back here.
      override: ({ jsonSchema }) => {
        delete jsonSchema.pattern;
        delete jsonSchema.maxLength;
        Object.assign(jsonSchema, {
          type: 'integer',
          minimum: min,
          maximum: max,
          ...(fallback === undefined ? {} : { default: fallback }),
        });
      },
    });
}
type QueryInteger = ReturnType<typeof digitsToInteger>;

/**
 * An integer in a query string: plain decimal digits only (no sign, exponent, hex, spaces or
 * fraction: `0x10`, `1e1`, `+5`, ` 5`, `5.0` and `''` are refused, unlike `Number()`), at most
 * 10 digits, then bounded by `min`..`max`; `fallback` when the parameter is absent. Documented
 * as an integer parameter with its bounds and default.
 */
export function queryInteger(min: number, max: number): QueryInteger;
export function queryInteger(
  min: number,
  max: number,
  fallback: number,
): z.ZodDefault<QueryInteger>;
export function queryInteger(min: number, max: number, fallback?: number) {
  const schema = digitsToInteger(min, max, fallback);
  return fallback === undefined ? schema : schema.default(fallback);
}
