/**
 * fast-check arbitraries from zod v4 schemas: `zodArbitrary(schema)` generates values the
 * schema accepts as *input* (what a client sends, before defaults and transforms), read from
 * the schema's own definition (`schema._zod.def`): lengths, bounds, formats (e-mail, UUID,
 * ISO date-time, regex), enums, literals, optional and defaulted keys, arrays, unions, pipes.
 *
 * Every leaf (string, number, record) and every pipe is filtered with the schema's own
 * `safeParse`, so refinements and transforms that can fail (a calendar check, a trim before a
 * minimum) never leak an invalid value. Refinements on whole objects (cross-field rules such
 * as "start ≤ end" or "at least one field") are not aimed for unless `objectRefinements` is
 * set: fuzzing wants to see those rules refuse too.
 */
import fc from 'fast-check';
import * as core from 'zod/v4/core';

/** The loosely typed view of a zod definition this module reads. */
interface Def {
  type: string;
  [key: string]: unknown;
}

interface CheckDef {
  check: string;
  [key: string]: unknown;
}

/** Any zod schema: zod/mini (as `shared/` writes them) or classic zod (same `_zod.def`). */
type Schema = core.$ZodType;

/** Options of `zodArbitrary`. */
export interface ZodArbitraryOptions {
  /**
   * Most characters a generated string has beyond its minimum (default 24). Strings exactly
   * at the schema's own minimum and maximum length are generated too, whatever this says.
   */
  maxStringLength?: number;
  /** Most elements an array has beyond its minimum (default 4). */
  maxArrayLength?: number;
  /** One "character" of a free-form string (default `fuzzCharacter`). */
  character?: fc.Arbitrary<string>;
  /** Also satisfy refinements of objects (cross-field rules), by filtering. Default false. */
  objectRefinements?: boolean;
}

type Options = Required<ZodArbitraryOptions>;

/** Largest array generated at its schema's maximum length (bigger maxima are not reached). */
const MAX_BOUNDARY_ARRAY = 1000;

/**
 * Characters that break naive code: U+0000, lone surrogates (both halves), right-to-left and
 * bidi override marks, zero-width joiner and BOM, a ZWJ emoji sequence, a flag, a combining
 * accent, line and paragraph separators (U+2028/9, which break JavaScript string literals),
 * NEL, quotes, backslash, percent and angle brackets.
 */
export const ODD_CHARACTERS: readonly string[] = [
  '\u0000',
  '\ud800',
  '\udfff',
  '\u200f',
  '\u202e',
  '\u200d',
  '\ufeff',
  '👩‍💻',
  '🏳️‍🌈',
  'e\u0301',
  '\u2028',
  '\u2029',
  '\u0085',
  '"',
  "'",
  '\\',
  '%',
  '<',
  '\t',
  '\n',
];

/**
 * One unit of a free-form string: mostly printable ASCII, then any printable grapheme
 * (emoji, CJK, combining sequences), then one of `ODD_CHARACTERS`.
 */
export const fuzzCharacter: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_CHARACTERS) },
);

const DEFAULTS: Options = {
  maxStringLength: 24,
  maxArrayLength: 4,
  character: fuzzCharacter,
  objectRefinements: false,
};

/**
 * An arbitrary of values `schema` accepts as input (`z.input<S>`); optional and defaulted
 * object keys are sometimes left out, never set to `undefined`.
 * Errors: throws for a zod type it cannot generate (`transform` alone, `custom`, `promise`,
 * `intersection`, …), naming the type.
 */
export function zodArbitrary<S extends Schema>(
  schema: S,
  options: ZodArbitraryOptions = {},
): fc.Arbitrary<core.input<S>> {
  return build(schema, { ...DEFAULTS, ...options }) as fc.Arbitrary<core.input<S>>;
}

function defOf(schema: Schema): Def {
  return schema._zod.def as unknown as Def;
}

function checksOf(schema: Schema): CheckDef[] {
  const def = defOf(schema);
  const own = typeof def.check === 'string' ? [def as unknown as CheckDef] : [];
  const checks = (def.checks as { _zod: { def: CheckDef } }[] | undefined) ?? [];
  return [...own, ...checks.map((check) => check._zod.def)];
}

/** The arbitrary, filtered to what `schema` really accepts. */
function accepted<T>(schema: Schema, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return arbitrary.filter((value) => core.safeParse(schema, value).success);
}

function build(schema: Schema, o: Options): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const inner = () => build(def.innerType as Schema, o);
  switch (def.type) {
    case 'string':
      return accepted(schema, stringArbitrary(schema, o));
    case 'number':
      return accepted(schema, numberArbitrary(schema));
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'undefined':
    case 'void':
      return fc.constant(undefined);
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries as Record<string, unknown>));
    case 'any':
    case 'unknown':
      return fc.jsonValue({ maxDepth: 2 });
    case 'optional':
    case 'default':
    case 'prefault':
      return fc.option(inner(), { nil: undefined, freq: 4 });
    case 'nullable':
      return fc.option(inner(), { nil: null, freq: 4 });
    case 'catch':
    case 'readonly':
      return inner();
    case 'nonoptional':
      return inner().filter((value) => value !== undefined);
    case 'lazy':
      return build((def.getter as () => Schema)(), o);
    case 'object':
      return objectArbitrary(schema, o);
    case 'array': {
      const { minLength, maxLength } = lengthBounds(schema);
      const cap = Math.min(maxLength, minLength + o.maxArrayLength);
      const arrays = fc.array(build(def.element as Schema, o), { minLength, maxLength: cap });
      if (!(maxLength > cap && maxLength <= MAX_BOUNDARY_ARRAY)) return arrays;
      // Exactly the maximum too: a few generated elements, repeated.
      const full = fc
        .array(build(def.element as Schema, o), { minLength: 1, maxLength: 3 })
        .map((items) => Array.from({ length: maxLength }, (_, i) => items[i % items.length]));
      return fc.oneof({ weight: 9, arbitrary: arrays }, { weight: 1, arbitrary: full });
    }
    case 'tuple':
      return fc.tuple(...(def.items as Schema[]).map((item) => build(item, o)));
    case 'union':
      return fc.oneof(...(def.options as Schema[]).map((option) => build(option, o)));
    case 'record':
      return accepted(
        schema,
        fc.dictionary(
          build(def.keyType as Schema, o).map(String),
          build(def.valueType as Schema, o),
          { maxKeys: 3 },
        ),
      );
    case 'pipe':
      return pipeArbitrary(schema, o);
    default:
      throw new Error(`zodArbitrary: cannot generate zod type "${def.type}"`);
  }
}

function objectArbitrary(schema: Schema, o: Options): fc.Arbitrary<unknown> {
  const shape = defOf(schema).shape as Record<string, Schema>;
  const entries = Object.entries(shape);
  const arbitraries = Object.fromEntries(entries.map(([key, field]) => [key, build(field, o)]));
  // `optin` is set when the input may be undefined (optional, default, prefault).
  const requiredKeys = entries.filter(([, field]) => !field._zod.optin).map(([key]) => key);
  const record = fc
    .record(arbitraries, { requiredKeys })
    .map((value) =>
      Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)),
    );
  const crossField = checksOf(schema).some((check) => check.check === 'custom');
  return o.objectRefinements && crossField ? accepted(schema, record) : record;
}

/** `pipe(in, out)`: `out` validates what `in` produced. */
function pipeArbitrary(schema: Schema, o: Options): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const input = def.in as Schema;
  const output = def.out as Schema;
  if (defOf(output).type === 'transform') return accepted(schema, build(input, o));
  if (defOf(input).type === 'transform') return accepted(schema, build(output, o));
  const from = inputKind(input);
  const to = inputKind(output);
  // A digit string turned into a number (`.transform(Number).pipe(z.int())`): numbers first.
  if (from === 'string' && (to === 'number' || to === 'integer')) {
    return accepted(schema, build(output, o).map(String));
  }
  if (from === to) return accepted(schema, build(output, o));
  return accepted(schema, build(input, o));
}

/** Length bounds of a string or array schema (its own checks only). */
export function lengthBounds(schema: Schema): { minLength: number; maxLength: number } {
  let minLength = 0;
  let maxLength = Number.POSITIVE_INFINITY;
  for (const check of checksOf(schema)) {
    if (check.check === 'min_length') minLength = Math.max(minLength, check.minimum as number);
    if (check.check === 'max_length') maxLength = Math.min(maxLength, check.maximum as number);
    if (check.check === 'length_equals') {
      minLength = check.length as number;
      maxLength = check.length as number;
    }
  }
  return { minLength, maxLength };
}

/** Numeric bounds of a number schema, and whether it wants an integer. */
export function numberBounds(schema: Schema): { min: number; max: number; integer: boolean } {
  let min = Number.NEGATIVE_INFINITY;
  let max = Number.POSITIVE_INFINITY;
  let integer = false;
  for (const check of checksOf(schema)) {
    const value = check.value as number;
    if (check.check === 'greater_than') min = Math.max(min, check.inclusive ? value : value + 1e-9);
    if (check.check === 'less_than') max = Math.min(max, check.inclusive ? value : value - 1e-9);
    if (check.check === 'number_format') {
      const format = check.format as string;
      if (format === 'safeint') {
        integer = true;
        min = Math.max(min, Number.MIN_SAFE_INTEGER);
        max = Math.min(max, Number.MAX_SAFE_INTEGER);
      } else if (format === 'int32') {
        integer = true;
        min = Math.max(min, -(2 ** 31));
        max = Math.min(max, 2 ** 31 - 1);
      } else if (format === 'uint32') {
        integer = true;
        min = Math.max(min, 0);
        max = Math.min(max, 2 ** 32 - 1);
      } else if (format === 'float32') {
        min = Math.max(min, -3.4e38);
        max = Math.min(max, 3.4e38);
      }
    }
  }
  return { min, max, integer };
}

function numberArbitrary(schema: Schema): fc.Arbitrary<number> {
  const { min, max, integer } = numberBounds(schema);
  if (!integer) {
    return fc.double({
      min: Number.isFinite(min) ? min : -1e15,
      max: Number.isFinite(max) ? max : 1e15,
      noNaN: true,
      noDefaultInfinity: true,
    });
  }
  const lo = Math.ceil(Number.isFinite(min) ? min : Number.MIN_SAFE_INTEGER);
  const hi = Math.floor(Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER);
  if (lo >= -(2 ** 31) && hi <= 2 ** 31 - 1) return fc.integer({ min: lo, max: hi });
  return fc.bigInt({ min: BigInt(lo), max: BigInt(hi) }).map(Number);
}

/** `seed` repeated, then cut, to exactly `length` UTF-16 code units. */
function fill(seed: string, length: number): string {
  const unit = seed || 'x';
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

function stringArbitrary(schema: Schema, o: Options): fc.Arbitrary<string> {
  const { minLength, maxLength } = lengthBounds(schema);
  const format = checksOf(schema).find((check) => check.check === 'string_format');
  if (format) return formatArbitrary(format);
  const cap = Math.min(maxLength, minLength + o.maxStringLength);
  const plain = fc
    .string({ unit: o.character, minLength, maxLength: cap })
    .map((value) => value.slice(0, maxLength));
  const seed = fc.string({ unit: o.character, minLength: 1, maxLength: 4 });
  const boundaries: fc.Arbitrary<string>[] = [];
  if (Number.isFinite(maxLength) && maxLength > cap)
    boundaries.push(seed.map((s) => fill(s, maxLength)));
  if (minLength > 0) boundaries.push(seed.map((s) => fill(s, minLength)));
  if (!boundaries.length) return plain;
  return fc.oneof(
    { weight: 8, arbitrary: plain },
    ...boundaries.map((arbitrary) => ({ weight: 1, arbitrary })),
  );
}

const EMAIL = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9_+-]{1,12}(\.[a-z0-9_+-]{1,8}){0,2}$/),
    fc.array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), {
      minLength: 1,
      maxLength: 2,
    }),
    fc.stringMatching(/^[a-z]{2,6}$/),
  )
  .map(([local, labels, tld]) => `${local}@${[...labels, tld].join('.')}`);

const FIRST_DATE = new Date('0001-01-01T00:00:00Z');
const LAST_DATE = new Date('9999-12-31T23:59:59.999Z');

/** ISO 8601 date-times the way `z.iso.datetime(options)` describes them. */
function dateTimeArbitrary(format: CheckDef): fc.Arbitrary<string> {
  const precision = format.precision as number | null | undefined;
  const digits = fc.stringMatching(/^\d{1,9}$/);
  const fraction =
    precision === null || precision === undefined
      ? fc.oneof(
          fc.constant(''),
          digits.map((d) => `.${d}`),
        )
      : precision > 0
        ? fc.stringMatching(new RegExp(`^\\d{${precision}}$`)).map((d) => `.${d}`)
        : fc.constant('');
  const offset = fc
    .tuple(
      fc.constantFrom('+', '-'),
      fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: 0, max: 59 }),
    )
    .map(([sign, h, m]) => `${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const zones: fc.Arbitrary<string>[] = [fc.constant('Z')];
  if (format.offset) zones.push(offset);
  if (format.local) zones.push(fc.constant(''));
  return fc
    .tuple(
      fc.date({ min: FIRST_DATE, max: LAST_DATE, noInvalidDate: true }),
      fraction,
      fc.oneof(...zones),
    )
    .map(([date, fractional, zone]) => {
      const iso = date.toISOString();
      return precision === -1
        ? `${iso.slice(0, 16)}${zone}`
        : `${iso.slice(0, 19)}${fractional}${zone}`;
    });
}

function formatArbitrary(format: CheckDef): fc.Arbitrary<string> {
  switch (format.format) {
    case 'email':
      return fc.oneof(EMAIL, fc.mixedCase(EMAIL));
    case 'uuid':
    case 'guid':
      return fc.oneof(
        { weight: 4, arbitrary: fc.uuid() },
        fc.uuid().map((u) => u.toUpperCase()),
      );
    case 'datetime':
      return dateTimeArbitrary(format);
    case 'date':
      return fc
        .date({ min: FIRST_DATE, max: LAST_DATE, noInvalidDate: true })
        .map((date) => date.toISOString().slice(0, 10));
    default:
      if (format.pattern instanceof RegExp) return fc.stringMatching(format.pattern);
      throw new Error(`zodArbitrary: cannot generate string format "${String(format.format)}"`);
  }
}

/** The kinds `inputKind` reports. */
export type InputKind =
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'enum'
  | 'literal'
  | 'null'
  | 'object'
  | 'array'
  | 'unknown';

/**
 * What a client must send for `schema`, seen through its wrappers (optional, default,
 * nullable, catch, readonly, lazy) and pipes (their input side): `'integer'` for an integer
 * number, `'string'` for a string (also one a pipe turns into a number), and so on.
 */
export function inputKind(schema: Schema): InputKind {
  const base = inputBase(schema);
  const type = defOf(base).type;
  if (type === 'number') return numberBounds(base).integer ? 'integer' : 'number';
  if (['string', 'boolean', 'enum', 'literal', 'null', 'object', 'array'].includes(type))
    return type as InputKind;
  return 'unknown';
}

/**
 * The schema that validates what a client sends for `schema`: wrappers removed, and for a
 * pipe its first stage (`pipe(string, transform)` → the string schema).
 */
export function inputBase(schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; depth < 32; depth++) {
    const def = defOf(current);
    if (
      ['optional', 'default', 'prefault', 'nullable', 'catch', 'readonly', 'nonoptional'].includes(
        def.type,
      )
    ) {
      current = def.innerType as Schema;
    } else if (def.type === 'lazy') {
      current = (def.getter as () => Schema)();
    } else if (def.type === 'pipe') {
      const input = def.in as Schema;
      current = defOf(input).type === 'transform' ? (def.out as Schema) : input;
    } else {
      return current;
    }
  }
  return current;
}

/**
 * The schema of the value at `path` (object keys and array indexes) inside `schema`, or
 * undefined when `schema` does not describe that path (an unknown key).
 */
export function schemaAt(schema: Schema, path: readonly (string | number)[]): Schema | undefined {
  let current: Schema | undefined = schema;
  for (const key of path) {
    if (!current) return undefined;
    const base = inputBase(current);
    const def = defOf(base);
    if (def.type === 'object') current = (def.shape as Record<string, Schema>)[String(key)];
    else if (def.type === 'array') current = def.element as Schema;
    else if (def.type === 'record') current = def.valueType as Schema;
    else return undefined;
  }
  return current;
}

/** The keys of an object schema (seen through wrappers), or none. */
export function objectKeys(schema: Schema | undefined): string[] {
  if (!schema) return [];
  const def = defOf(inputBase(schema));
  return def.type === 'object' ? Object.keys(def.shape as Record<string, Schema>) : [];
}
