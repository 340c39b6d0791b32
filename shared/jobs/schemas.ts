/** Schemas of background jobs and uploads (API.md § Background jobs). */
import * as z from 'zod/mini';
import { queryInteger, UtcTimestamp } from '../schemas.js';

import { JOB_STATUSES, JOB_TYPES, MAX_ATTEMPTS, MAX_UPLOAD_BYTES } from './limits.js';

export * from './limits.js';

export const JobIdParams = z.object({ id: z.uuid() });

export const NotesExportParams = z.strictObject({
  format: z.enum(['jsonl', 'csv']).register(z.globalRegistry, {
    description:
      'JSON Lines (one note object per line) or CSV (`id,title,content,archived,created_at,updated_at`).',
  }),
  archived: z._default(z.boolean(), false).register(z.globalRegistry, {
    description: '`true` includes archived notes; default false.',
  }),
});
export type NotesExportParams = z.output<typeof NotesExportParams>;

export const InventoryImportParams = z.strictObject({
  upload_id: z.uuid().register(z.globalRegistry, {
    description: 'The `upload_id` of `POST /api/v1/uploads`, after the file was PUT.',
  }),
});
export type InventoryImportParams = z.output<typeof InventoryImportParams>;

export const SubmitJobBody = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('notes.export'), params: NotesExportParams }),
    z.strictObject({ type: z.literal('inventory.import'), params: InventoryImportParams }),
  ])
  .register(z.globalRegistry, {
    id: 'SubmitJobRequest',
    example: { type: 'notes.export', params: { format: 'jsonl', archived: false } },
  });
export type SubmitJobBody = z.output<typeof SubmitJobBody>;

/** A row the import refused: its line in the file (the header is line 1). */
export const RowError = z.object({
  line: z.int().check(z.gte(1)),
  field: z.string(),
  message: z.string(),
  code: z.string(),
});
export type RowError = z.output<typeof RowError>;

export const JobError = z
  .object({
    code: z.string().register(z.globalRegistry, {
      description:
        '`invalid_rows`, `invalid_file`, `too_many_rows`, `upload_missing`, `upload_too_large` or `attempt_failed`.',
    }),
    message: z.string(),
    rows: z.optional(z.array(RowError)).register(z.globalRegistry, {
      description: 'The first refused rows (at most 20) of an import.',
    }),
  })
  .register(z.globalRegistry, {
    id: 'JobError',
    example: {
      code: 'invalid_rows',
      message:
        'Nothing was stored: the file has invalid rows (the first 20 problems at most are listed).',
      rows: [
        {
          line: 501,
          field: 'quantity',
          message: 'Too small: expected number to be >=0',
          code: 'too_small',
        },
      ],
    },
  });
export type JobError = z.output<typeof JobError>;

export const JobResult = z
  .object({
    rows: z
      .int()
      .check(z.gte(0))
      .register(z.globalRegistry, { description: 'Rows exported or imported.' }),
    url: z.optional(z.url()).register(z.globalRegistry, {
      description: 'An export’s file: a presigned GET, valid 15 minutes from the job’s end.',
    }),
    expires_at: z.optional(UtcTimestamp),
  })
  .register(z.globalRegistry, {
    id: 'JobResult',
    example: {
      rows: 10000,
      url: 'https://files.s3.amazonaws.com/exports/…',
      expires_at: '2026-12-03T10:15:00.000Z',
    },
  });
export type JobResult = z.output<typeof JobResult>;

const JOB_EXAMPLE = {
  id: '5f0c7a1e-2b3d-4c5e-8f9a-0b1c2d3e4f50',
  type: 'notes.export',
  status: 'succeeded',
  progress: 1,
  attempts: 1,
  max_attempts: MAX_ATTEMPTS,
  params: { format: 'jsonl', archived: false },
  result: {
    rows: 10000,
    url: 'https://files.s3.amazonaws.com/exports/…',
    expires_at: '2026-12-03T10:15:00.000Z',
  },
  error: null,
  created_at: '2026-12-03T10:00:00.000Z',
  started_at: '2026-12-03T10:00:01.000Z',
  finished_at: '2026-12-03T10:00:03.000Z',
};

export const Job = z
  .object({
    id: z.uuid(),
    type: z.enum(JOB_TYPES),
    status: z.enum(JOB_STATUSES),
    progress: z.number().check(z.gte(0), z.lte(1)),
    attempts: z.int().check(z.gte(0)),
    max_attempts: z.int().check(z.gte(1)),
    params: z.record(z.string(), z.unknown()),
    result: z.nullable(JobResult),
    error: z.nullable(JobError),
    created_at: UtcTimestamp,
    started_at: z.nullable(UtcTimestamp),
    finished_at: z.nullable(UtcTimestamp),
  })
  .register(z.globalRegistry, { id: 'Job', example: JOB_EXAMPLE });
export type Job = z.output<typeof Job>;

export const ListJobsQuery = z.object({
  limit: queryInteger(1, 100, 20).register(z.globalRegistry, { example: 20 }),
  cursor: z.optional(z.string().check(z.maxLength(2048))).register(z.globalRegistry, {
    description: 'Opaque `next_cursor` of the previous page, with the same filters.',
  }),
  status: z.optional(z.enum(JOB_STATUSES)),
  type: z.optional(z.enum(JOB_TYPES)),
});
export type ListJobsQuery = z.output<typeof ListJobsQuery>;

export const JobPage = z
  .object({
    items: z.array(Job),
    limit: z.int().check(z.gte(1), z.lte(100)),
    next_cursor: z.nullable(z.string()),
  })
  .register(z.globalRegistry, {
    id: 'JobPage',
    example: { items: [JOB_EXAMPLE], limit: 20, next_cursor: null },
  });
export type JobPage = z.output<typeof JobPage>;

export const CreateUploadBody = z
  .strictObject({
    filename: z.string().check(
      z.minLength(1),
      z.maxLength(255),
      z.refine(
        (name) => !/[/\\]/.test(name) && ![...name].some((c) => c < ' ' || c === '\x7f'),
        'A file name without path separators or control characters.',
      ),
    ),
    content_type: z.literal('text/csv'),
    size: z.int().check(z.gte(1), z.lte(MAX_UPLOAD_BYTES)).register(z.globalRegistry, {
      description:
        'The file’s exact size in bytes (at most 100 MiB); the PUT must send this `Content-Length`.',
    }),
  })
  .register(z.globalRegistry, {
    id: 'CreateUploadRequest',
    example: { filename: 'stock.csv', content_type: 'text/csv', size: 52_428_800 },
  });
export type CreateUploadBody = z.output<typeof CreateUploadBody>;

export const Upload = z
  .object({
    upload_id: z.uuid(),
    url: z.url().register(z.globalRegistry, {
      description: 'A presigned S3 PUT, valid 15 minutes: send the file with exactly `headers`.',
    }),
    method: z.literal('PUT'),
    headers: z.object({ 'content-type': z.string(), 'content-length': z.string() }),
    expires_at: UtcTimestamp,
  })
  .register(z.globalRegistry, {
    id: 'Upload',
    example: {
      upload_id: '0e7c4b2a-9d1f-4e3a-8b5c-6d7e8f9a0b1c',
      url: 'https://files.s3.eu-west-1.amazonaws.com/uploads/…?X-Amz-Signature=…',
      method: 'PUT',
      headers: { 'content-type': 'text/csv', 'content-length': '52428800' },
      expires_at: '2026-12-03T10:15:00.000Z',
    },
  });
export type Upload = z.output<typeof Upload>;
