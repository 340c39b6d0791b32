import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { routeList } from '../../shared/routes/index.js';
import {
  inputKind,
  lengthBounds,
  ODD_CHARACTERS,
  schemaAt,
  zodArbitrary,
} from '../helpers/zod-arbitrary.js';

const SEED = 20240601;
const sample = <T>(arbitrary: fc.Arbitrary<T>, numRuns = 200) =>
  fc.sample(arbitrary, { seed: SEED, numRuns });

/** Query strings carry text only: the fuzz suite sends `String(value)`. */
const asQuery = (value: unknown) =>
  Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
  );

describe('zodArbitrary', () => {
  it('generates only values each route schema accepts (cross-field rules included when asked)', () => {
    for (const route of routeList) {
      for (const [part, schema] of Object.entries(route.request ?? {})) {
        if (!schema) continue;
        const values = sample(zodArbitrary(schema, { objectRefinements: true }), 60);
        for (const value of values) {
          const input = part === 'query' ? asQuery(value) : value;
          const result = schema.safeParse(input);
          expect(
            result.success,
            `${route.method} ${route.path} ${part}: ${JSON.stringify(value)}`,
          ).toBe(true);
        }
      }
    }
  });

  it('respects lengths and bounds, and reaches the boundaries', () => {
    const schema = z.strictObject({
      name: z.string().trim().min(1).max(30),
      tags: z
        .array(z.enum(['a', 'b']))
        .min(1)
        .max(3),
      count: z.int().min(-5).max(5),
      big: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
      ratio: z.number().min(0).max(1),
    });
    const values = sample(zodArbitrary(schema), 400);
    for (const value of values) expect(schema.safeParse(value).success).toBe(true);
    const lengths = new Set(values.map((value) => value.name.length));
    expect(lengths.has(30)).toBe(true);
    expect(values.some((value) => value.count === -5)).toBe(true);
    expect(values.some((value) => value.count === 5)).toBe(true);
    expect(values.some((value) => value.big > 2 ** 32)).toBe(true);
    expect(values.some((value) => value.tags.length === 3)).toBe(true);
  });

  it('generates arrays at their maximum length too (up to 1000 elements)', () => {
    const schema = z.array(z.int().min(0).max(9)).min(1).max(1000);
    const lengths = sample(zodArbitrary(schema), 200).map((value) => value.length);
    expect(lengths).toContain(1000);
    expect(lengths.filter((length) => length <= 5).length).toBeGreaterThan(100);
  });

  it('leaves optional and defaulted keys out sometimes, never sends them as undefined', () => {
    const schema = z.object({ a: z.string().optional(), b: z.int().default(3), c: z.boolean() });
    const values = sample(zodArbitrary(schema));
    expect(values.some((value) => !('a' in value))).toBe(true);
    expect(values.some((value) => 'b' in value)).toBe(true);
    expect(values.every((value) => Object.values(value).every((v) => v !== undefined))).toBe(true);
  });

  it('does not aim for cross-field rules unless asked', () => {
    const schema = z
      .object({ low: z.int().min(0).max(9), high: z.int().min(0).max(9) })
      .refine((value) => value.low <= value.high);
    expect(sample(zodArbitrary(schema)).some((value) => !schema.safeParse(value).success)).toBe(
      true,
    );
    const strict = sample(zodArbitrary(schema, { objectRefinements: true }));
    expect(strict.every((value) => schema.safeParse(value).success)).toBe(true);
  });

  it('generates formats: e-mail, UUID, ISO date-time with offsets, regex, digit strings', () => {
    const cases: z.ZodType[] = [
      z
        .string()
        .trim()
        .max(254)
        .pipe(z.email())
        .transform((email) => email.toLowerCase()),
      z.uuid(),
      z.iso.datetime({ offset: true, local: true }),
      z.iso.datetime({ precision: 3 }),
      z
        .string()
        .min(1)
        .max(8)
        .regex(/^[A-Z][a-z0-9-]*$/),
      z
        .string()
        .max(10)
        .regex(/^[0-9]+$/)
        .transform(Number)
        .pipe(z.int().min(1).max(500)),
    ];
    for (const schema of cases) {
      for (const value of sample(zodArbitrary(schema), 100)) {
        expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(true);
      }
    }
    const offsets = sample(zodArbitrary(z.iso.datetime({ offset: true })), 300);
    expect(offsets.some((value) => /[+-]\d{2}:\d{2}$/.test(value))).toBe(true);
  });

  it('puts odd characters (NUL, lone surrogates, RTL marks, emoji) into free-form strings', () => {
    const values = sample(zodArbitrary(z.string().max(50)), 500).join('');
    const seen = ODD_CHARACTERS.filter((character) => values.includes(character));
    expect(seen.length).toBeGreaterThan(ODD_CHARACTERS.length / 2);
  });

  it('is deterministic for a seed', () => {
    const arbitrary = zodArbitrary(z.object({ title: z.string().max(200), n: z.int() }));
    expect(sample(arbitrary, 50)).toEqual(sample(arbitrary, 50));
  });

  it('names what it cannot generate', () => {
    expect(() => zodArbitrary(z.custom<string>(() => true))).toThrow(/custom/);
  });

  it('describes inputs: kind through wrappers and pipes, schema at a path, length bounds', () => {
    const digits = z.string().regex(/^\d+$/).transform(Number).pipe(z.int());
    const schema = z.object({
      items: z.array(z.strictObject({ q: z.int().min(0), when: digits.optional() })).max(9),
    });
    expect(inputKind(schema)).toBe('object');
    expect(inputKind(schemaAt(schema, ['items', 0, 'q']) as z.ZodType)).toBe('integer');
    expect(inputKind(schemaAt(schema, ['items', 3, 'when']) as z.ZodType)).toBe('string');
    expect(schemaAt(schema, ['items', 0, 'nope'])).toBeUndefined();
    expect(lengthBounds(schemaAt(schema, ['items']) as z.ZodType)).toEqual({
      minLength: 0,
      maxLength: 9,
    });
  });
});
