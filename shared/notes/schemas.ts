import { z } from 'zod';

/** PostgreSQL `text` cannot hold U+0000, so it is a validation error (422), not a 500. */
const noNul = (value: string) => !value.includes('\u0000');
const NO_NUL = { message: 'Must not contain the NUL character (U+0000).' };

const Title = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine(noNul, NO_NUL)
  .meta({ example: 'Groceries' });
const Content = z.string().max(20000).refine(noNul, NO_NUL).meta({ example: 'Milk, eggs, coffee' });

export const NoteIdParams = z.object({ id: z.uuid() });

export const CreateNoteBody = z
  .strictObject({ title: Title, content: Content.default('') })
  .meta({ id: 'CreateNoteRequest' });

/** PUT: a full replacement, so both fields are required. */
export const ReplaceNoteBody = z
  .strictObject({ title: Title, content: Content })
  .meta({ id: 'ReplaceNoteRequest' });

/** PATCH: a partial update (JSON merge semantics for two scalar fields); at least one field. */
export const PatchNoteBody = z
  .strictObject({ title: Title.optional(), content: Content.optional() })
  .refine((body) => body.title !== undefined || body.content !== undefined, {
    message: 'Send at least one of title, content.',
  })
  .meta({ id: 'PatchNoteRequest' });

export const NOTE_SORTS = ['created_at', 'updated_at', 'title'] as const;
export type NoteSort = (typeof NOTE_SORTS)[number];

export const ListNotesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
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
    .refine(noNul, NO_NUL)
    .optional()
    .transform((q) => (q ? q : undefined))
    .meta({ description: 'Case-insensitive substring of the title or the content.' }),
  sort: z.enum(NOTE_SORTS).default('created_at'),
  order: z.enum(['desc', 'asc']).default('desc'),
});
export type ListNotesQuery = z.output<typeof ListNotesQuery>;

export const Note = z
  .object({
    id: z.uuid(),
    title: z.string(),
    content: z.string(),
    archived: z.boolean(),
    version: z.int().min(1),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    archived_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Note' });
export type Note = z.output<typeof Note>;

export const NotePage = z
  .object({
    items: z.array(Note),
    limit: z.int(),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'NotePage' });
export type NotePage = z.output<typeof NotePage>;
