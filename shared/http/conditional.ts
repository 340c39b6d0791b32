import { BadRequest } from '../errors.js';

/** A strong entity tag for a resource version: `"3"` (RFC 9110 §8.8.3). */
export function versionETag(version: number): string {
  return `"${version}"`;
}

const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e]*)"$/;

/**
 * Parses `If-Match` (RFC 9110 §13.1.1) into the versions it accepts: null when the header is
 * absent or `*` (any current version), else the versions of its strong tags. Weak tags never
 * match (strong comparison), so `W/"3"` alone accepts nothing and yields 412.
 * Errors: `BadRequest` for a header that is not `*` or a list of entity tags.
 */
export function parseIfMatch(header: string | undefined): number[] | null {
  if (header === undefined) return null;
  const value = header.trim();
  if (value === '*') return null;
  const versions: number[] = [];
  for (const part of value.split(',')) {
    const match = ENTITY_TAG.exec(part.trim());
    if (!match) throw new BadRequest('If-Match must be * or a list of entity tags such as "3".');
    const [, weak, opaque = ''] = match;
    if (!weak && /^[1-9]\d{0,9}$/.test(opaque)) versions.push(Number(opaque));
  }
  return versions;
}
