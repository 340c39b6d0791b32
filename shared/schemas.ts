/**
 * Shared zod primitives every domain builds its schemas from, so that one rule per input class
 * lives in one place: timestamps in and out, integers in query strings. Platform neutral (no
 * HTTP), so a domain may import it. The NUL rule for every string is not here: it is applied
 * to whole inputs by the HTTP validation step, so no new field can forget it.
 */
import * as z from 'zod/mini';
import {
  TIMESTAMP_MAX_LENGTH,
  TIMESTAMP_PATTERN,
  TIMESTAMP_PATTERN_MESSAGE,
  utcTimestampTransform,
} from './timestamp.js';

// The timestamp rule's parts live in `./timestamp.ts`; re-exported here for the domains.
export { TIMESTAMP_MAX_LENGTH, TIMESTAMP_PATTERN, toUtcTimestamp } from './timestamp.js';

/**
 * A timestamp in a request: RFC 3339 (`TIMESTAMP_PATTERN`, at most `TIMESTAMP_MAX_LENGTH`
 * chars), a value without offset is UTC (never the server's zone), a real calendar date, years
 * 0001–9999 once in UTC. Output: the UTC text of `toUtcTimestamp`, which PostgreSQL's
 * `timestamptz` parses exactly and which compares as text like the instants it names.
 */
export const Timestamp = z
  .pipe(
    z
      .string()
      .check(
        z.maxLength(TIMESTAMP_MAX_LENGTH),
        z.regex(TIMESTAMP_PATTERN, TIMESTAMP_PATTERN_MESSAGE),
      ),
    z.transform(utcTimestampTransform),
  )
  .register(z.globalRegistry, {
    description:
      'RFC 3339; without an offset it is UTC. Offset within ±15:59, up to 6 fractional ' +
      'digits (microseconds), years 0001–9999 once converted to UTC.',
    example: '2024-01-01T10:00:00Z',
  });

/** A timestamp in a response: RFC 3339 in UTC with `Z` (API.md § Conventions). */
export const UtcTimestamp = z.iso
  .datetime()
  .register(z.globalRegistry, { example: '2024-01-01T10:00:00.000Z' });

const QUERY_INTEGER_MESSAGE = 'A whole number written with the digits 0-9 only.';

function digitsToInteger(min: number, max: number, fallback: number | undefined) {
  return z
    .pipe(
      z.pipe(
        z
          .string()
          .check(
            z.maxLength(10, QUERY_INTEGER_MESSAGE),
            z.regex(/^[0-9]+$/, QUERY_INTEGER_MESSAGE),
          ),
        z.transform(Number),
      ),
      z.int().check(z.gte(min), z.lte(max)),
    )
    .register(z.globalRegistry, {
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
): z.ZodMiniDefault<QueryInteger>;
export function queryInteger(min: number, max: number, fallback?: number) {
  const schema = digitsToInteger(min, max, fallback);
  return fallback === undefined ? schema : z._default(schema, fallback);
}
