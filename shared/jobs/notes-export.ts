/**
 * `notes.export` (API.md § Background jobs): the owner's notes, oldest first, as JSON Lines
 * (one note object per line, as the API shows notes) or CSV (RFC 4180, header
 * `id,title,content,archived,created_at,updated_at`), written to S3 with a multipart upload
 * under `exports/<job id>/<128 random bits>.<ext>`, a key only this job knows. The result
 * holds a presigned GET valid 15 minutes. Work is chunked: a page of notes between steps
 * (progress, cancellation), a part of at least 5 MiB between checkpoints (the last part may
 * be smaller), so a continuation resumes after the last uploaded part.
 */
import { randomBytes } from 'node:crypto';
import { getSql } from '../db/client.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  MIN_PART_BYTES,
  presignGet,
  putObject,
  uploadPart,
} from '../files/s3.js';
import type { NoteRow } from '../notes/repository.js';
import { toNote } from '../notes/service.js';
import { EXPORT_CSV_COLUMNS, PRESIGNED_URL_SECONDS } from './limits.js';
import type { JobRow } from './repository.js';
import type { NotesExportParams } from './schemas.js';
import type { JobRunner, RunContext } from './worker.js';

/**
 * Notes read per query (one step between two): at most 100 × 20,000 characters, so a page
 * of the largest notes (~2 MB, more with multi-byte text) stays well within the 1.5 s
 * statement timeout even on a loaded database.
 */
export const EXPORT_PAGE_ROWS = 100;

/** Where an export stands after its last uploaded part. */
export interface ExportCheckpoint {
  key: string;
  uploadId: string;
  parts: { partNumber: number; etag: string }[];
  /** The last exported note's position (created_at as text with microseconds, id). */
  after: { createdAt: string; id: string } | null;
  rows: number;
  total: number;
}

const CONTENT_TYPES = { jsonl: 'application/x-ndjson', csv: 'text/csv' } as const;

async function countNotes(ownerId: string, archived: boolean): Promise<number> {
  const sql = getSql();
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM notes
    WHERE owner_id = ${ownerId} ${archived ? sql`` : sql`AND archived_at IS NULL`}`;
  return row?.n ?? 0;
}

async function notesAfter(
  ownerId: string,
  archived: boolean,
  after: ExportCheckpoint['after'],
): Promise<(NoteRow & { position: string })[]> {
  const sql = getSql();
  return sql<(NoteRow & { position: string })[]>`
    SELECT id, title, content, version, created_at, updated_at, archived_at,
      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
    FROM notes
    WHERE owner_id = ${ownerId} ${archived ? sql`` : sql`AND archived_at IS NULL`}
      ${after ? sql`AND (created_at, id) > (${after.createdAt}::text::timestamptz, ${after.id}::uuid)` : sql``}
    ORDER BY created_at, id
    LIMIT ${EXPORT_PAGE_ROWS}`;
}

/**
 * One CSV record (RFC 4180 §2): a field holding `"`, `,`, CR or LF is quoted, its `"`
 * doubled; fields joined by `,`, the record ended by CRLF. (Written here, not with
 * csv-stringify: measured, csv-stringify adds 10.7 KiB to the worker's bundle for these
 * four lines; the unit tests check the output against csv-parse.)
 */
export function csvRecord(fields: readonly string[]): string {
  return `${fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',')}\r\n`;
}

/** The lines of `rows` in `format` (CSV header excluded). */
export function formatNotes(rows: NoteRow[], format: NotesExportParams['format']): string {
  const notes = rows.map(toNote);
  if (format === 'jsonl') return notes.map((note) => `${JSON.stringify(note)}\n`).join('');
  return notes
    .map((n) =>
      csvRecord([n.id, n.title, n.content, String(n.archived), n.created_at, n.updated_at]),
    )
    .join('');
}

function csvHeader(): string {
  return csvRecord(EXPORT_CSV_COLUMNS);
}

/** Share of the notes done, below 1 until the job has succeeded. */
const progressOf = (rows: number, total: number) => (total ? Math.min(0.99, rows / total) : 0.99);

async function run(context: RunContext<ExportCheckpoint>) {
  const { job } = context;
  const params = job.params as NotesExportParams;
  const archived = params.archived === true;
  let state = context.checkpoint;
  if (!state) {
    const key = `exports/${job.id}/${randomBytes(16).toString('base64url')}.${params.format}`;
    state = {
      key,
      uploadId: await createMultipartUpload(key, CONTENT_TYPES[params.format]),
      parts: [],
      after: null,
      rows: 0,
      total: await countNotes(job.owner_id, archived),
    };
    if ((await context.step(0, state)) === 'cancel') return 'cancelled' as const;
  }
  // The part being filled, and where the notes in it end (saved once it is uploaded).
  let buffer = state.parts.length === 0 && params.format === 'csv' ? csvHeader() : '';
  let bytes = Buffer.byteLength(buffer);
  let after = state.after;
  let rows = state.rows;
  const upload = async (text: string, through: ExportCheckpoint['after'], count: number) => {
    const current = state as ExportCheckpoint;
    const partNumber = current.parts.length + 1;
    const etag = await uploadPart(current.key, current.uploadId, partNumber, Buffer.from(text));
    state = {
      ...current,
      parts: [...current.parts, { partNumber, etag }],
      after: through,
      rows: count,
    };
    return state;
  };
  for (;;) {
    const page = await notesAfter(job.owner_id, archived, after);
    // Note by note, so a part ends at a note: at least 5 MiB, at most one note more.
    for (const note of page) {
      const text = formatNotes([note], params.format);
      buffer += text;
      bytes += Buffer.byteLength(text);
      after = { createdAt: note.position, id: note.id };
      rows += 1;
      if (bytes >= MIN_PART_BYTES) {
        const saved = await upload(buffer, after, rows);
        buffer = '';
        bytes = 0;
        const answer = await context.step(progressOf(rows, saved.total), saved);
        if (answer === 'cancel') return 'cancelled' as const;
        if (answer === 'yield') return 'yielded' as const;
      }
    }
    if (page.length < EXPORT_PAGE_ROWS) break;
    if ((await context.step(progressOf(rows, state.total))) === 'cancel') {
      return 'cancelled' as const;
    }
  }
  if (!buffer && !state.parts.length) {
    // Nothing at all to write (JSON Lines of no notes): an empty object, not an empty part.
    await abortMultipartUpload(state.key, state.uploadId);
    await putObject(state.key, '', CONTENT_TYPES[params.format]);
    return finished(state.key, 0);
  }
  if (buffer) await upload(buffer, after, rows);
  await completeMultipartUpload(state.key, state.uploadId, state.parts);
  return finished(state.key, state.rows);

  async function finished(key: string, exported: number) {
    const expiresAt = new Date(Date.now() + PRESIGNED_URL_SECONDS * 1000);
    const date = job.created_at.toISOString().slice(0, 10);
    const url = await presignGet({
      key,
      expiresInSeconds: PRESIGNED_URL_SECONDS,
      downloadName: `notes-${date}.${params.format}`,
      contentType: CONTENT_TYPES[params.format],
    });
    return { result: { rows: exported, url, expires_at: expiresAt.toISOString() } };
  }
}

/** The `notes.export` runner: see the module comment. */
export const notesExport: JobRunner<ExportCheckpoint> = {
  run,
  async cleanup(_job: JobRow, checkpoint: ExportCheckpoint | null) {
    if (checkpoint) await abortMultipartUpload(checkpoint.key, checkpoint.uploadId);
  },
};
