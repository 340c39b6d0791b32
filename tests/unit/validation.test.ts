import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { IfMatchHeaders } from '../../shared/http/schemas.js';
import {
  declaredFields,
  findNulCharacters,
  NUL_CHARACTER_CODE,
  validate,
} from '../../shared/http/validation.js';
import { routeList } from '../../shared/routes/index.js';

const NUL = '\u0000';
const noNul = (value: unknown) => !JSON.stringify(value).includes('\\u0000');

/** A JSON value and a path to one of its strings (arrays and objects all the way down). */
const withStringPath = fc
  .jsonValue()
  .filter(noNul)
  .chain((value) => {
    const paths: (string | number)[][] = [];
    const walk = (node: unknown, path: (string | number)[]) => {
      if (typeof node === 'string') paths.push(path);
      else if (Array.isArray(node)) {
        for (const [i, item] of node.entries()) walk(item, [...path, i]);
      } else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
      }
    };
    walk(value, []);
    return paths.length
      ? fc.record({ value: fc.constant(value), path: fc.constantFrom(...paths) })
      : fc.constant(null);
  })
  .filter((sample) => sample !== null);

function setAt(value: unknown, path: (string | number)[], text: string): unknown {
  if (!path.length) return text;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  // defineProperty, not assignment: a key such as `__proto__` stays an own data property.
  Object.defineProperty(node, path.at(-1) as string | number, {
    value: text,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

describe('the NUL rule (every string of every input)', () => {
  it('finds U+0000 wherever it is put in any JSON value, and reports its path', () => {
    fc.assert(
      fc.property(withStringPath, fc.string(), fc.string(), (sample, before, after) => {
        const value = setAt(sample.value, sample.path, `${before}${NUL}${after}`);
        expect(findNulCharacters(value)).toEqual([sample.path]);
        const result = validate(z.unknown(), value, 'body');
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.errors).toEqual([
            {
              field: sample.path.length ? sample.path.join('.') : 'body',
              message: expect.stringContaining('U+0000'),
              code: NUL_CHARACTER_CODE,
            },
          ]);
        }
      }),
    );
  });

  it('finds nothing in values without U+0000, where validation is exactly the schema', () => {
    fc.assert(
      fc.property(fc.jsonValue().filter(noNul), (value) => {
        expect(findNulCharacters(value)).toEqual([]);
        expect(validate(z.unknown(), value, 'body')).toEqual({ ok: true, data: value });
      }),
    );
  });

  it('refuses U+0000 in object keys too (PostgreSQL jsonb cannot store it)', () => {
    const result = validate(z.record(z.string(), z.unknown()), { [`a${NUL}b`]: 1 }, 'body');
    expect(result).toEqual({
      ok: false,
      errors: [{ field: 'a\\u0000b', message: expect.any(String), code: NUL_CHARACTER_CODE }],
    });
  });

  it('prefixes the location for path, query and header values', () => {
    const schema = z.object({ name: z.string() });
    for (const location of ['path', 'query', 'header'] as const) {
      const result = validate(schema, { name: `x${NUL}` }, location);
      expect(result.ok ? [] : result.errors.map((e) => e.field)).toEqual([`${location}.name`]);
    }
  });

  it('walks a body nested 200,000 deep without exhausting the stack, and stops at 20 errors', () => {
    let deep: unknown = NUL;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findNulCharacters(deep)).toHaveLength(1);
    expect(findNulCharacters(Array.from({ length: 1000 }, () => NUL))).toHaveLength(20);
  });

  it('applies to every route input whatever its schema says (no per-field rule to forget)', () => {
    for (const route of routeList) {
      for (const [location, schema] of Object.entries(route.request ?? {})) {
        // `$ZodObject`: the object trait that classic zod and zod/mini share.
        if (!(schema instanceof z.core.$ZodObject)) continue;
        const [key] = Object.keys(schema._zod.def.shape);
        if (!key) continue;
        const where = location === 'form' ? 'body' : (location as 'path' | 'query' | 'header');
        const result = validate(schema, { [key]: `ok${NUL}` }, where);
        expect(result.ok, `${route.method} ${route.path} ${location}.${key}`).toBe(false);
        if (!result.ok) expect(result.errors.map((e) => e.code)).toEqual([NUL_CHARACTER_CODE]);
      }
    }
  });
});

describe('validate', () => {
  it('names unknown fields one by one and keeps the dotted path of nested issues', () => {
    const schema = z.strictObject({ items: z.array(z.strictObject({ n: z.int() })) });
    const result = validate(schema, { items: [{ n: 1 }, { n: 'x' }], extra: true }, 'body');
    expect(result.ok ? [] : result.errors.map((e) => [e.field, e.code])).toEqual([
      ['items.1.n', 'invalid_type'],
      ['extra', 'unknown_field'],
    ]);
  });
});

describe('declaredFields (headers a route reads)', () => {
  it('keeps only the declared headers, so others are never judged', () => {
    const headers = { 'if-match': '"1"', 'user-agent': `curl${NUL}`, accept: '*/*' };
    expect(declaredFields(IfMatchHeaders, headers)).toEqual({ 'if-match': '"1"' });
    expect(validate(IfMatchHeaders, declaredFields(IfMatchHeaders, headers), 'header').ok).toBe(
      true,
    );
    expect(declaredFields(IfMatchHeaders, {})).toEqual({});
  });
  it('gives a strict object every key, so it still refuses unknown ones', () => {
    const strict = z.strictObject({ a: z.string() });
    expect(declaredFields(strict, { a: '1', b: '2' })).toEqual({ a: '1', b: '2' });
  });
});
