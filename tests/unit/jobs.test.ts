import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateRow } from '../../shared/jobs/inventory-import.js';
import { formatNotes } from '../../shared/jobs/notes-export.js';
import { retryDelaySeconds } from '../../shared/jobs/worker.js';
import type { NoteRow } from '../../shared/notes/repository.js';

describe('retryDelaySeconds (exponential backoff, equal jitter)', () => {
  it('stays within [½, 1] × base × 2^(attempt−1), at most 900 s', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 900 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, random) => {
          const ceiling = Math.min(900, base * 2 ** (attempt - 1));
          const delay = retryDelaySeconds(attempt, base, random);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.min(900, Math.ceil(ceiling)));
        },
      ),
    );
  });

  it('doubles with each attempt until the cap', () => {
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, 10, 0.999999))).toEqual([10, 20, 40, 80]);
    expect(retryDelaySeconds(20, 10, 0.5)).toBe(675);
  });
});

describe('validateRow (an import row, like an inventory update item)', () => {
  const productid = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/);
  const quantity = fc.integer({ min: 0, max: 2_147_483_647 });
  const timestamp = fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString());

  it('accepts every valid row and converts its values', () => {
    fc.assert(
      fc.property(productid, quantity, timestamp, fc.integer({ min: 2 }), (p, q, t, line) => {
        const checked = validateRow([p, String(q), t], line);
        expect(checked).toEqual({
          ok: { productid: p, quantity: q, timestamp: expect.any(String) },
        });
      }),
    );
  });

  it('refuses a quantity that is not a whole number in range, naming the line and field', () => {
    const bad = fc.oneof(
      fc.constantFrom('', '-1', '1.5', '1e3', ' 7', '+3', 'ten', '2147483648', '0x10'),
      fc.string().filter((s) => !/^[0-9]+$/.test(s)),
    );
    fc.assert(
      fc.property(productid, bad, timestamp, fc.integer({ min: 2 }), (p, q, t, line) => {
        const checked = validateRow([p, q, t], line);
        expect(checked).toEqual({
          errors: [expect.objectContaining({ line, field: 'quantity' })],
        });
      }),
    );
  });

  it('refuses a row with another number of fields', () => {
    expect(validateRow(['A-1', '1'], 7)).toEqual({
      errors: [expect.objectContaining({ line: 7, field: 'row', code: 'invalid_row' })],
    });
  });
});

describe('formatNotes', () => {
  const row = (title: string, content: string): NoteRow => ({
    id: '5f0c7a1e-2b3d-4c5e-8f9a-0b1c2d3e4f50',
    owner_id: '5f0c7a1e-2b3d-4c5e-8f9a-0b1c2d3e4f51',
    title,
    content,
    version: 1,
    created_at: new Date('2026-01-01T00:00:00Z'),
    updated_at: new Date('2026-01-02T00:00:00Z'),
    archived_at: null,
  });

  it('CSV fields survive any text (quotes, commas, newlines) through a CSV parser', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (title, content) => {
        const [record] = parseCsv(formatNotes([row(title, content)], 'csv'), {
          relax_quotes: false,
        }) as string[][];
        expect(record).toEqual([
          '5f0c7a1e-2b3d-4c5e-8f9a-0b1c2d3e4f50',
          title,
          content,
          'false',
          '2026-01-01T00:00:00.000Z',
          '2026-01-02T00:00:00.000Z',
        ]);
      }),
    );
  });

  it('JSON Lines: one note object per line, as the API shows it', () => {
    const text = formatNotes([row('a', 'line\nbreak'), row('b', '')], 'jsonl');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      title: 'a',
      content: 'line\nbreak',
      archived: false,
    });
  });
});
