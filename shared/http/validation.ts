import type { z } from 'zod';
import type { FieldError } from '../errors.js';

/**
 * Validates `value` with `schema`. On success returns `{ ok: true, data }`; on failure the
 * issues as `FieldError`s whose `field` is `prefix` + the dotted path (`query.limit`,
 * `items.3.quantity`, or the bare prefix/`body` for the whole value). Unknown keys of a
 * strict object become one error per key.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: 'path' | 'query' | 'body',
): { ok: true; data: z.output<S> } | { ok: false; errors: FieldError[] } {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldError[] = [];
  for (const issue of result.error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({
          field: fieldName(prefix, [...base, key]),
          message: 'Unknown field.',
          code: 'unknown_field',
        });
      }
      continue;
    }
    errors.push({ field: fieldName(prefix, base), message: issue.message, code: issue.code });
  }
  return { ok: false, errors };
}

function fieldName(prefix: 'path' | 'query' | 'body', path: string[]): string {
  if (prefix === 'body') return path.length ? path.join('.') : 'body';
  return [prefix, ...path].join('.');
}
