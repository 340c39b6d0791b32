import * as z from 'zod';
import { queryInteger, UtcTimestamp } from '../schemas.js';

// U+0000 (which PostgreSQL `text` cannot hold) is refused for every input string by the HTTP
// validation step, so no field here needs its own rule.
const Title = z.string().trim().min(1).max(200).meta({ example: 'Groceries' });
const Content = z.string().max(20000).meta({ example: 'Milk, eggs, coffee' });

export const NoteIdParams = z.object({
  id: z.uuid().meta({ example: '6f1c2b9e-8d4a-4f3e-9a51-2c7d0b8e4a10' }),
});

export const CreateNoteBody = z
  .strictObject({ title: Title, content: Content.default('') })
  .meta({ id: 'CreateNoteRequest', example: { title: 'Groceries', content: 'Milk, eggs' } });

/** PUT: a full replacement, so both fields are required. */
export const ReplaceNoteBody = z.strictObject({ title: Title, content: Content }).meta({
  id: 'ReplaceNoteRequest',
  example: { title: 'Groceries', content: 'Milk, eggs, coffee' },
});

/**
 * PATCH: a partial update (JSON merge semantics for two scalar fields); at least one field
 * (`minProperties: 1` in OpenAPI; an unknown field is refused anyway).
 */
export const PatchNoteBody = z
  .strictObject({ title: Title.optional(), content: Content.optional() })
  .refine((body) => body.title !== undefined || body.content !== undefined, {
    message: 'Send at least one of title, content.',
  })
  .meta({ id: 'PatchNoteRequest', minProperties: 1, example: { title: 'Weekend groceries' } });

export const NOTE_SORTS = ['created_at', 'updated_at', 'title'] as const;
export type NoteSort = (typeof NOTE_SORTS)[number];

export const ListNotesQuery = z.object({
  limit: queryInteger(1, 100, 20).meta({ example: 20 }),
  cursor: z
    .string()
    .max(2048)
    .optional()
    .meta({ description: 'Opaque `next_cursor` of the previous page, with the same filters.' }),
  archived: z.enum(['false', 'true', 'all']).default('false'),
  q: z
    .string()
    .trim()
    .max(200)
    .optional()
    .transform((q) => (q ? q : undefined))
    .meta({ description: 'Case-insensitive substring of the title or the content.' }),
  sort: z.enum(NOTE_SORTS).default('created_at'),
  order: z.enum(['desc', 'asc']).default('desc'),
});
export type ListNotesQuery = z.output<typeof ListNotesQuery>;

const NOTE_EXAMPLE = {
  id: '6f1c2b9e-8d4a-4f3e-9a51-2c7d0b8e4a10',
  title: 'Groceries',
  content: 'Milk, eggs',
  archived: false,
  version: 2,
  created_at: '2024-01-01T10:00:00.000Z',
  updated_at: '2024-01-01T10:05:00.000Z',
  archived_at: null,
};

export const Note = z
  .object({
    id: z.uuid(),
    title: z.string(),
    content: z.string(),
    archived: z.boolean(),
    version: z.int().min(1),
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
    archived_at: UtcTimestamp.nullable(),
  })
  .meta({ id: 'Note', example: NOTE_EXAMPLE });
export type Note = z.output<typeof Note>;

export const NotePage = z
  .object({
    items: z.array(Note),
    limit: z.int().min(1).max(100),
    next_cursor: z.string().nullable(),
  })
  .meta({
    id: 'NotePage',
    example: {
      items: [NOTE_EXAMPLE],
      limit: 20,
      next_cursor:
        'eyJmIjoiV2dSb2hPRkxfWTdXaGJ2cCIsInYiOiIyMDI0LTAxLTAxVDEwOjAwOjAwLjAwMDAwMFoiLCJpIjoiNmYxYzJiOWUtOGQ0YS00ZjNlLTlhNTEtMmM3ZDBiOGU0YTEwIn0',
    },
  });
export type NotePage = z.output<typeof NotePage>;
