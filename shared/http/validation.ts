import * as z from 'zod/mini';
// Named imports, not `z.core.…`: a value read through that namespace keeps all of zod's core in
// the bundle (every locale, the JSON Schema generator).
import { $ZodObject, type $ZodType } from 'zod/v4/core';
import type { FieldError } from '../errors.js';
import { useEnglishMessages } from '../zod-english.js';

// The messages of field errors are zod's, in English (as classic zod gave them).
useEnglishMessages();

/** Where a validated value came from; the first segment of every `FieldError.field`. */
export type InputLocation = 'path' | 'query' | 'header' | 'body';

const NUL = '\u0000';

/** Error code of a string (or an object key) that carries U+0000. */
export const NUL_CHARACTER_CODE = 'nul_character';

/**
 * Most field errors reported for one input (the NUL walk stops there too), so a body of a
 * million unknown keys cannot make a 422 larger than Lambda's 6 MB response quota.
 */
const MAX_FIELD_ERRORS = 20;
/** Longest `field` reported: a client's key may be up to the whole body long. */
const MAX_FIELD_LENGTH = 200;

interface Visit {
  value: unknown;
  key: string | number | null;
  parent: Visit | null;
}

function pathOf(visit: Visit): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: Visit | null = visit; at && at.key !== null; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * Where in `value` a string, or an object key, contains U+0000: up to 20 paths (arrays of keys
 * and indexes), in document order. PostgreSQL `text` and `jsonb` cannot store that character,
 * so every input is checked for it before any schema runs: one rule, not one refinement per
 * field. Iterative, with parent links instead of copied paths, so a deeply nested JSON body
 * costs linear time and cannot exhaust the stack.
 */
export function findNulCharacters(value: unknown): (string | number)[][] {
  const found: (string | number)[][] = [];
  const pending: Visit[] = [{ value, key: null, parent: null }];
  for (let visit = pending.pop(); visit && found.length < MAX_FIELD_ERRORS; visit = pending.pop()) {
    const current = visit.value;
    if (typeof current === 'string') {
      if (current.includes(NUL)) found.push(pathOf(visit));
    } else if (typeof current === 'object' && current !== null) {
      const entries = Array.isArray(current) ? [...current.entries()] : Object.entries(current);
      // Pushed last to first, so they are visited (and reported) in document order.
      for (const [key, item] of entries.reverse()) {
        // A key with NUL is reported at its own path (its value is not searched further).
        const keyHasNul = typeof key === 'string' && key.includes(NUL);
        pending.push({ value: keyHasNul ? NUL : item, key, parent: visit });
      }
    }
  }
  return found;
}

/**
 * Validates `value` (from `location`) with `schema`. On success returns `{ ok: true, data }`;
 * on failure the issues as `FieldError`s whose `field` is the location + the dotted path
 * (`query.limit`, `header.if-match`, `items.3.quantity`; a body's own fields carry no prefix,
 * the whole body is `body`). Strings or keys containing U+0000 are refused first, whatever the
 * schema says, with code `nul_character`; unknown keys of a strict object give one
 * `unknown_field` error per key.
 */
export function validate<S extends $ZodType>(
  schema: S,
  value: unknown,
  location: InputLocation,
): { ok: true; data: z.output<S> } | { ok: false; errors: FieldError[] } {
  const nul = findNulCharacters(value);
  if (nul.length) {
    return {
      ok: false,
      errors: nul.map((path) => ({
        field: fieldName(location, path.map(printable)),
        message: 'Must not contain the NUL character (U+0000).',
        code: NUL_CHARACTER_CODE,
      })),
    };
  }
  const result = z.safeParse(schema, value);
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldError[] = [];
  for (const issue of result.error.issues) {
    const base = issue.path.map(printable);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys.slice(0, MAX_FIELD_ERRORS)) {
        errors.push({
          field: fieldName(location, [...base, key]),
          message: 'Unknown field.',
          code: 'unknown_field',
        });
      }
      continue;
    }
    errors.push({ field: fieldName(location, base), message: issue.message, code: issue.code });
  }
  return { ok: false, errors: errors.slice(0, MAX_FIELD_ERRORS) };
}

/**
 * The entries of `value` whose keys `schema` (a zod object that strips unknown keys) declares;
 * all of `value` for any other schema. Used for headers and query parameters: only the ones a route reads are
 * validated (and checked for U+0000); the others are ignored, as a non-strict object would.
 */
export function declaredFields(
  schema: $ZodType,
  value: Record<string, string | undefined>,
): Record<string, string | undefined> {
  // A strict (or passthrough) object has a catchall: it judges every key, so give it all.
  if (!(schema instanceof $ZodObject) || schema._zod.def.catchall) return value;
  return Object.fromEntries(
    Object.keys(schema._zod.def.shape)
      .filter((key) => Object.hasOwn(value, key))
      .map((key) => [key, value[key]]),
  );
}

/** A path segment as text; U+0000 in a key is shown as the escape `\u0000`. */
function printable(segment: PropertyKey): string {
  return String(segment).replaceAll(NUL, '\\u0000');
}

function fieldName(location: InputLocation, path: string[]): string {
  const name =
    location === 'body' ? (path.length ? path.join('.') : 'body') : [location, ...path].join('.');
  return name.length > MAX_FIELD_LENGTH ? `${name.slice(0, MAX_FIELD_LENGTH - 1)}…` : name;
}
