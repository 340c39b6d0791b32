/**
 * Field errors keep the English messages classic zod gave, now that every schema of `shared/`
 * is zod/mini (which sets no locale: its messages would all read `Invalid input`). This file
 * imports no classic zod, which would set English itself and hide a missing locale.
 */
import { describe, expect, it } from 'vitest';
import { validate } from '../../shared/http/validation.js';
import { ListNotesQuery } from '../../shared/notes/schemas.js';
import { RegisterBody } from '../../shared/users/schemas.js';

describe('zod/mini field errors', () => {
  it('read as classic zod worded them', () => {
    const result = validate(RegisterBody, { email: 'nope', password: 'short', name: 7 }, 'body');
    expect(result.ok ? [] : result.errors).toEqual([
      { field: 'email', message: 'Invalid email address', code: 'invalid_format' },
      {
        field: 'password',
        message: 'Too small: expected string to have >=8 characters',
        code: 'too_small',
      },
      {
        field: 'name',
        message: 'Invalid input: expected string, received number',
        code: 'invalid_type',
      },
    ]);
  });

  it('keep the messages of their own rules', () => {
    const result = validate(ListNotesQuery, { limit: '0x10', sort: 'size' }, 'query');
    expect(result.ok ? [] : result.errors).toEqual([
      {
        field: 'query.limit',
        message: 'A whole number written with the digits 0-9 only.',
        code: 'invalid_format',
      },
      {
        field: 'query.sort',
        message: 'Invalid option: expected one of "created_at"|"updated_at"|"title"',
        code: 'invalid_value',
      },
    ]);
  });
});
