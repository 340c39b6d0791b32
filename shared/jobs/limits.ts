/**
 * The numbers and names of background jobs (API.md § Background jobs), without zod: the
 * worker imports these, and only the routes import the schemas (`./schemas.ts`, which
 * re-exports them), so the worker's bundle holds no API schema.
 */

export const JOB_TYPES = ['notes.export', 'inventory.import'] as const;
export type JobType = (typeof JOB_TYPES)[number];
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** Statuses a job never leaves (except `failed`, through a retry). */
export const FINISHED_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Runs of a job before it is `failed`: the first and two retries. */
export const MAX_ATTEMPTS = 3;
/** How long a presigned URL (an upload's PUT, an export's GET) stays valid, in seconds. */
export const PRESIGNED_URL_SECONDS = 900;
/** The largest upload, in bytes (100 MiB). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
/** The most rows an import may hold (API.md § Background jobs). */
export const MAX_IMPORT_ROWS = 1_000_000;
/** The header line an import's CSV must start with. */
export const IMPORT_CSV_HEADER = 'productid,quantity,timestamp';
/** The header line of a CSV export. */
export const EXPORT_CSV_COLUMNS = [
  'id',
  'title',
  'content',
  'archived',
  'created_at',
  'updated_at',
] as const;
