/**
 * A `LIKE`/`ILIKE` pattern that matches `q` literally anywhere in the text: `%`, `_` and `\`
 * are escaped (PostgreSQL docs, "Pattern Matching": backslash is LIKE's default escape).
 */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, '\\$&')}%`;
}
