import { describe, expect, it } from 'vitest';
import { BadRequest } from '../../shared/errors.js';
import { decodeCursor, encodeCursor } from '../../shared/notes/cursor.js';
import { ListNotesQuery } from '../../shared/notes/schemas.js';

const query = (input: Record<string, string> = {}) => ListNotesQuery.parse(input);
const position = {
  value: '2026-11-22T12:00:00.123456Z',
  id: '3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70',
};

describe('notes cursor', () => {
  it('round-trips a keyset position and is opaque (base64url)', () => {
    const cursor = encodeCursor(query(), position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(query(), cursor)).toEqual(position);
  });
  it('is bound to sort, order, archived and q, not to limit', () => {
    const cursor = encodeCursor(query({ q: 'milk' }), position);
    expect(decodeCursor(query({ q: 'milk', limit: '5' }), cursor)).toEqual(position);
    const others: Record<string, string>[] = [
      {},
      { q: 'eggs' },
      { q: 'milk', order: 'asc' },
      { q: 'milk', archived: 'all' },
      { q: 'milk', sort: 'updated_at' },
    ];
    for (const other of others) {
      expect(() => decodeCursor(query(other), cursor)).toThrow(BadRequest);
    }
  });
  it('rejects garbage and tampered cursors', () => {
    const bad = [
      'abc',
      '!!!',
      Buffer.from('{}').toString('base64url'),
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from(JSON.stringify({ f: 'x'.repeat(16), v: 'not a time', i: position.id })).toString(
        'base64url',
      ),
    ];
    for (const cursor of bad)
      expect(() => decodeCursor(query(), cursor), cursor).toThrow(BadRequest);
    const valid = JSON.parse(Buffer.from(encodeCursor(query(), position), 'base64url').toString());
    const tampered = Buffer.from(
      JSON.stringify({ ...valid, v: "2026'; DROP TABLE notes;--" }),
    ).toString('base64url');
    expect(() => decodeCursor(query(), tampered)).toThrow(BadRequest);
  });
});
