import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  queryInteger,
  TIMESTAMP_MAX_LENGTH,
  TIMESTAMP_PATTERN,
  Timestamp,
  toUtcTimestamp,
} from '../../shared/schemas.js';

const FIRST_MS = Date.parse('0001-01-01T00:00:00Z');
const LAST_MS = Date.parse('9999-12-31T23:59:59Z');
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

interface Instant {
  seconds: number;
  micros: number;
  offsetMinutes: number;
}

/** An instant (whole seconds since the epoch + 0–999999 µs) and an offset of -15:59..+15:59. */
const instant: fc.Arbitrary<Instant> = fc.record({
  seconds: fc.integer({ min: FIRST_MS / 1000, max: LAST_MS / 1000 }),
  micros: fc.integer({ min: 0, max: 999_999 }),
  offsetMinutes: fc.integer({ min: -(15 * 60 + 59), max: 15 * 60 + 59 }),
});

/** `instant` written in its offset's local time, RFC 3339; null when the local year has no 4 digits. */
function written({ seconds, micros, offsetMinutes }: Instant): string | null {
  const local = new Date(seconds * 1000 + offsetMinutes * 60_000).toISOString();
  if (!/^\d{4}-/.test(local)) return null;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local.slice(0, 19)}.${pad(micros, 6)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The canonical UTC text of `instant`. */
const utcOf = ({ seconds, micros }: Instant) =>
  `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${pad(micros, 6)}Z`;

describe('Timestamp (RFC 3339 in, UTC out)', () => {
  it('turns any instant written with any offset within ±15:59 into its UTC text', () => {
    fc.assert(
      fc.property(instant, (value) => {
        const text = written(value);
        fc.pre(text !== null);
        expect(Timestamp.parse(text)).toBe(utcOf(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a value without offset as UTC, and Z, z and -00:00 as UTC', () => {
    fc.assert(
      fc.property(instant, (value) => {
        const naive = utcOf(value).slice(0, -1);
        for (const suffix of ['', 'Z', 'z', '+00:00', '-00:00']) {
          expect(Timestamp.parse(`${naive}${suffix}`)).toBe(utcOf(value));
        }
      }),
    );
  });

  it('is idempotent, and its output sorts as text exactly like the instants', () => {
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        const [ua, ub] = [utcOf(a), utcOf(b)];
        expect(Timestamp.parse(ua)).toBe(ua);
        const byTime = Math.sign(a.seconds - b.seconds) || Math.sign(a.micros - b.micros);
        const byText = ua < ub ? -1 : ua > ub ? 1 : 0;
        expect(byText).toBe(byTime);
      }),
    );
  });

  it('refuses offsets beyond ±15:59 (what PostgreSQL timestamptz refuses), whatever the rest', () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: 16, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
        fc.constantFrom('+', '-'),
        (value, hours, minutes, sign) => {
          const base = utcOf(value).slice(0, -1);
          expect(Timestamp.safeParse(`${base}${sign}${pad(hours)}:${pad(minutes)}`).success).toBe(
            false,
          );
        },
      ),
    );
    expect(Timestamp.safeParse('2024-01-01T00:00:00+20:00').success).toBe(false);
    expect(Timestamp.safeParse('2024-01-01T00:00:00+15:60').success).toBe(false);
    expect(Timestamp.parse('2024-01-01T00:00:00+15:59')).toBe('2023-12-31T08:01:00.000000Z');
  });

  it('never accepts a string that does not match its documented pattern and length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        if (Timestamp.safeParse(text).success) {
          expect(text).toMatch(TIMESTAMP_PATTERN);
          expect(text.length).toBeLessThanOrEqual(TIMESTAMP_MAX_LENGTH);
        }
      }),
    );
  });

  it.each([
    ['2024-02-30T00:00:00Z', 'not on the calendar'],
    ['2023-02-29T00:00:00Z', 'not a leap year'],
    ['2024-13-01T00:00:00Z', 'month 13'],
    ['2024-01-01T24:00:00Z', 'hour 24'],
    ['2024-01-01T23:59:60Z', 'leap second'],
    ['2024-01-01T10:00Z', 'no seconds'],
    ['2024-01-01 10:00:00Z', 'space instead of T'],
    ['2024-01-01T10:00:00.1234567Z', '7 fractional digits'],
    ['2024-01-01T10:00:00.Z', 'empty fraction'],
    ['0000-01-01T00:00:00Z', 'year 0 in UTC (PostgreSQL has none)'],
    ['0001-01-01T00:30:00+01:00', 'before year 1 once in UTC'],
    ['9999-12-31T23:30:00-01:00', 'after year 9999 once in UTC'],
    ['+002024-01-01T00:00:00Z', 'expanded year'],
    ['2024-01-01T10:00:00+0100', 'offset without colon'],
    ['2024-01-01', 'a date alone'],
    ['', 'empty'],
  ])('refuses %s (%s)', (text) => {
    expect(Timestamp.safeParse(text).success).toBe(false);
  });

  it('accepts the edges of the range and keeps microseconds', () => {
    expect(Timestamp.parse('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000000Z');
    expect(Timestamp.parse('0000-12-31T23:30:00-01:00')).toBe('0001-01-01T00:30:00.000000Z');
    expect(Timestamp.parse('9999-12-31T23:59:59.999999Z')).toBe('9999-12-31T23:59:59.999999Z');
    expect(Timestamp.parse('0099-03-01T00:00:00Z')).toBe('0099-03-01T00:00:00.000000Z');
    expect(Timestamp.parse('2024-02-29t10:00:00.5z')).toBe('2024-02-29T10:00:00.500000Z');
    expect(toUtcTimestamp('not a time')).toBeNull();
  });
});

describe('queryInteger (decimal digits only)', () => {
  const limit = queryInteger(1, 100, 20);

  it('reads the decimal digits of any integer in range, and the default when absent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.nat({ max: 3 }), (n, zeros) => {
        expect(limit.parse(`${'0'.repeat(zeros)}${n}`)).toBe(n);
      }),
    );
    expect(limit.parse(undefined)).toBe(20);
  });

  it('refuses anything that is not only the digits 0-9, whatever Number() would make of it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        fc.pre(!/^[0-9]+$/.test(text));
        expect(limit.safeParse(text).success).toBe(false);
      }),
    );
    for (const text of ['0x10', '1e1', '+5', ' 5', '5 ', '5.0', '', '-1', '٥', 'Infinity'])
      expect(limit.safeParse(text).success, JSON.stringify(text)).toBe(false);
  });

  it('refuses integers out of range and more than 10 digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 101, max: 2 ** 40 }), (n) => {
        expect(limit.safeParse(String(n)).success).toBe(false);
      }),
    );
    expect(limit.safeParse('0').success).toBe(false);
    expect(limit.safeParse('00000000001').success).toBe(false);
  });
});
