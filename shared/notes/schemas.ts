import * as z from 'zod/mini';
import { queryInteger, UtcTimestamp } from '../schemas.js';

// U+0000 (which PostgreSQL `text` cannot hold) is refused for every input string by the HTTP
// validation step, so no field here needs its own rule.
const Title = z
  .string()
  .check(z.trim(), z.minLength(1), z.maxLength(200))
  .register(z.globalRegistry, { example: 'Groceries' });
const Content = z
  .string()
  .check(z.maxLength(20000))
  .register(z.globalRegistry, { example: 'Milk, eggs, coffee' });

export const NoteIdParams = z.object({
  id: z.uuid().register(z.globalRegistry, { example: '6f1c2b9e-8d4a-4f3e-9a51-2c7d0b8e4a10' }),
});

export const CreateNoteBody = z
  .strictObject({ title: Title, content: z._default(Content, '') })
  .register(z.globalRegistry, {
    id: 'CreateNoteRequest',
    example: { title: 'Groceries', content: 'Milk, eggs' },
  });

/** PUT: a full replacement, so both fields are required. */
export const ReplaceNoteBody = z
  .strictObject({ title: Title, content: Content })
  .register(z.globalRegistry, {
    id: 'ReplaceNoteRequest',
    example: { title: 'Groceries', content: 'Milk, eggs, coffee' },
  });

/**
 * PATCH: a partial update (JSON merge semantics for two scalar fields); at least one field
 * (`minProperties: 1` in OpenAPI; an unknown field is refused anyway).
 */
export const PatchNoteBody = z
  .strictObject({ title: z.optional(Title), content: z.optional(Content) })
  .check(
    z.refine((body) => body.title !== undefined || body.content !== undefined, {
      message: 'Send at least one of title, content.',
    }),
  )
  .register(z.globalRegistry, {
    id: 'PatchNoteRequest',
    minProperties: 1,
    example: { title: 'Weekend groceries' },
  });

export const NOTE_SORTS = ['created_at', 'updated_at', 'title'] as const;
export type NoteSort = (typeof NOTE_SORTS)[number];

export const ListNotesQuery = z.object({
  limit: queryInteger(1, 100, 20).register(z.globalRegistry, { example: 20 }),
  cursor: z.optional(z.string().check(z.maxLength(2048))).register(z.globalRegistry, {
    description: 'Opaque `next_cursor` of the previous page, with the same filters.',
  }),
  archived: z._default(z.enum(['false', 'true', 'all']), 'false'),
  q: z
    .pipe(
      z.optional(z.string().check(z.trim(), z.maxLength(200))),
      z.transform((q: string | undefined) => (q ? q : undefined)),
    )
    .register(z.globalRegistry, {
      description: 'Case-insensitive substring of the title or the content.',
    }),
  sort: z._default(z.enum(NOTE_SORTS), 'created_at'),
  order: z._default(z.enum(['desc', 'asc']), 'desc'),
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
    version: z.int().check(z.gte(1)),
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
    archived_at: z.nullable(UtcTimestamp),
  })
  .register(z.globalRegistry, { id: 'Note', example: NOTE_EXAMPLE });
export type Note = z.output<typeof Note>;

export const NotePage = z
  .object({
    items: z.array(Note),
    limit: z.int().check(z.gte(1), z.lte(100)),
    next_cursor: z.nullable(z.string()),
  })
  .register(z.globalRegistry, {
    id: 'NotePage',
    example: {
      items: [NOTE_EXAMPLE],
      limit: 20,
      next_cursor:
        'eyJmIjoiV2dSb2hPRkxfWTdXaGJ2cCIsInYiOiIyMDI0LTAxLTAxVDEwOjAwOjAwLjAwMDAwMFoiLCJpIjoiNmYxYzJiOWUtOGQ0YS00ZjNlLTlhNTEtMmM3ZDBiOGU0YTEwIn0',
    },
  });
export type NotePage = z.output<typeof NotePage>;
