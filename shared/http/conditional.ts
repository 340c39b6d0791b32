import { BadRequest } from '../errors.js';

/** A strong entity tag for a resource version: `"3"` (RFC 9110 §8.8.3). */
export function versionETag(version: number): string {
  return `"${version}"`;
}

/** One element of an entity-tag list with its optional whitespace and separator (sticky). */
const LIST_ELEMENT = /[ \t]*(W\/)?"([\x21\x23-\x7e]*)"[ \t]*(?:,(?=[ \t]*\S)|$)/y;

/**
 * Parses `If-Match` (RFC 9110 §13.1.1) into the versions it accepts: null when the header is
 * absent or `*` (any current version), else the versions of its strong tags. Weak tags never
 * match (strong comparison), so `W/"3"` alone accepts nothing and yields 412.
 * The list is scanned tag by tag, not split on commas: a comma is a legal character inside
 * an opaque tag (`"a,b"` is one tag, RFC 9110 §8.8.3).
 * Errors: `BadRequest` for a header that is not `*` or a list of entity tags.
 */
export function parseIfMatch(header: string | undefined): number[] | null {
  if (header === undefined) return null;
  const value = header.trim();
  if (value === '*') return null;
  const invalid = () => new BadRequest('If-Match must be * or a list of entity tags such as "3".');
  if (value === '') throw invalid();
  const versions: number[] = [];
  LIST_ELEMENT.lastIndex = 0;
  while (LIST_ELEMENT.lastIndex < value.length) {
    const match = LIST_ELEMENT.exec(value);
    if (!match) throw invalid();
    const [, weak, opaque = ''] = match;
    if (!weak && /^[1-9]\d{0,9}$/.test(opaque)) versions.push(Number(opaque));
  }
  return versions;
}
