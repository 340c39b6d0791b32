/** SQL of background jobs and uploads (migration 1763800000012). */
import { getSql, type Queryable, type TransactionSql } from '../db/client.js';
import { purgeOldest } from '../db/purge.js';
import type { KeysetPosition } from '../keyset-cursor.js';
import type { JobError, JobResult, JobStatus, JobType } from './schemas.js';

export interface JobRow {
  id: string;
  owner_id: string;
  type: JobType;
  status: JobStatus;
  params: Record<string, unknown>;
  progress: number;
  attempts: number;
  max_attempts: number;
  result: JobResult | null;
  error: JobError | null;
  checkpoint: unknown;
  cancel_requested: boolean;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  not_before: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface UploadRow {
  id: string;
  owner_id: string;
  object_key: string;
  filename: string;
  content_type: string;
  size: string;
  created_at: Date;
}

/** Records a queued job of `ownerId`. */
export async function insertJob(
  tx: TransactionSql,
  job: { ownerId: string; type: JobType; params: Record<string, unknown>; maxAttempts: number },
): Promise<JobRow> {
  const [row] = await tx<JobRow[]>`
    INSERT INTO jobs (owner_id, type, params, max_attempts)
    VALUES (${job.ownerId}, ${job.type}, ${tx.json(job.params as never)}, ${job.maxAttempts})
    RETURNING *`;
  return row as JobRow;
}

/** The job `id` of `ownerId` (null for an unknown id or another owner's job). */
export async function findJob(
  ownerId: string,
  id: string,
  sql: Queryable = getSql(),
): Promise<JobRow | null> {
  const [row] = await sql<JobRow[]>`SELECT * FROM jobs WHERE id = ${id} AND owner_id = ${ownerId}`;
  return row ?? null;
}

/** The job `id` of `ownerId`, locked for the rest of `tx`; null when absent or another's. */
export async function lockJob(
  tx: TransactionSql,
  ownerId: string,
  id: string,
): Promise<JobRow | null> {
  const [row] = await tx<JobRow[]>`
    SELECT * FROM jobs WHERE id = ${id} AND owner_id = ${ownerId} FOR UPDATE`;
  return row ?? null;
}

/**
 * A page of `ownerId`'s jobs, newest first (index `jobs_owner_created_idx`), after `after`
 * (`value`: created_at as RFC 3339 text with microseconds), with one extra row to tell
 * whether another page follows. `sort_key` is the row's created_at in that text form.
 */
export async function listJobs(
  ownerId: string,
  filters: { status?: JobStatus | undefined; type?: JobType | undefined; limit: number },
  after: KeysetPosition | null,
): Promise<(JobRow & { sort_key: string })[]> {
  const sql = getSql();
  const status = filters.status ? sql`AND status = ${filters.status}` : sql``;
  const type = filters.type ? sql`AND type = ${filters.type}` : sql``;
  const keyset = after
    ? sql`AND (created_at, id) < (${after.value}::text::timestamptz, ${after.id}::uuid)`
    : sql``;
  return sql<(JobRow & { sort_key: string })[]>`
    SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sort_key
    FROM jobs
    WHERE owner_id = ${ownerId} ${status} ${type} ${keyset}
    ORDER BY created_at DESC, id DESC
    LIMIT ${filters.limit + 1}`;
}

/** Puts a failed job back in the queue for a fresh start: no attempts, progress or outcome. */
export async function requeueJob(tx: TransactionSql, id: string): Promise<JobRow> {
  const [row] = await tx<JobRow[]>`
    UPDATE jobs SET status = 'queued', attempts = 0, progress = 0, result = NULL, error = NULL,
      checkpoint = NULL, cancel_requested = false, lease_owner = NULL, lease_expires_at = NULL,
      not_before = NULL, started_at = NULL, finished_at = NULL, updated_at = now()
    WHERE id = ${id}
    RETURNING *`;
  return row as JobRow;
}

/**
 * Asks job `id` to stop: a queued one is cancelled at once (and what a failed attempt staged
 * is dropped), a running one keeps running until its next checkpoint sees the request.
 */
export async function requestCancel(tx: TransactionSql, job: JobRow): Promise<JobRow> {
  if (job.status === 'queued') {
    await tx`DELETE FROM inventory_import_rows WHERE job_id = ${job.id}`;
  }
  const [row] = await tx<JobRow[]>`
    UPDATE jobs SET cancel_requested = true, updated_at = now(),
      status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
      finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END
    WHERE id = ${job.id}
    RETURNING *`;
  return row as JobRow;
}

/** Records an upload of `ownerId` whose object will be `objectKey`. */
export async function insertUpload(
  upload: {
    id: string;
    ownerId: string;
    objectKey: string;
    filename: string;
    contentType: string;
    size: number;
  },
  sql: Queryable = getSql(),
): Promise<UploadRow> {
  const [row] = await sql<UploadRow[]>`
    INSERT INTO uploads (id, owner_id, object_key, filename, content_type, size)
    VALUES (${upload.id}, ${upload.ownerId}, ${upload.objectKey}, ${upload.filename},
      ${upload.contentType}, ${upload.size})
    RETURNING *`;
  return row as UploadRow;
}

/** The upload `id` of `ownerId`, or null (unknown, or another's). */
export async function findUpload(
  ownerId: string,
  id: string,
  sql: Queryable = getSql(),
): Promise<UploadRow | null> {
  const [row] = await sql<UploadRow[]>`
    SELECT * FROM uploads WHERE id = ${id} AND owner_id = ${ownerId}`;
  return row ?? null;
}

/** What a run may find when it tries to take a job's lease. */
export type ClaimOutcome =
  | { claimed: JobRow }
  | { missing: true }
  | { busy: JobRow }
  | { early: JobRow; waitSeconds: number }
  | { finished: JobRow };

/**
 * Takes the lease of job `id` for `owner` (a run's random id) for `leaseSeconds`, in one
 * statement, when the job is queued or running, no live lease holds it and its retry
 * backoff (`not_before`) has passed. The claim makes it `running`, sets `started_at` once,
 * and counts an attempt when the run starts from the beginning (no checkpoint): a
 * continuation, or a run resuming after a crash, continues the same attempt. Otherwise
 * tells why not (the job is unknown, leased by another run, waiting out its backoff, or
 * finished).
 */
export async function claimJob(
  id: string,
  owner: string,
  leaseSeconds: number,
): Promise<ClaimOutcome> {
  const sql = getSql();
  const [claimed] = await sql<JobRow[]>`
    UPDATE jobs SET status = 'running', lease_owner = ${owner},
      lease_expires_at = now() + make_interval(secs => ${leaseSeconds}),
      attempts = attempts + CASE WHEN checkpoint IS NULL THEN 1 ELSE 0 END,
      started_at = coalesce(started_at, now()), not_before = NULL, updated_at = now()
    WHERE id = ${id} AND status IN ('queued', 'running')
      AND (lease_expires_at IS NULL OR lease_expires_at < now())
      AND (not_before IS NULL OR not_before <= now())
    RETURNING *`;
  if (claimed) return { claimed };
  const [row] = await sql<(JobRow & { wait_seconds: number | null })[]>`
    SELECT *, extract(epoch FROM not_before - now())::float8 AS wait_seconds
    FROM jobs WHERE id = ${id}`;
  if (!row) return { missing: true };
  if (row.status !== 'queued' && row.status !== 'running') return { finished: row };
  if (row.lease_expires_at && row.lease_expires_at.getTime() > Date.now()) return { busy: row };
  return { early: row, waitSeconds: Math.max(1, Math.ceil(row.wait_seconds ?? 1)) };
}

/** A run lost its lease (it expired and another run took the job): it must stop at once. */
export class LeaseLost extends Error {
  constructor(jobId: string) {
    super(`The lease of job ${jobId} was lost; this run stops.`);
    this.name = 'LeaseLost';
  }
}

/**
 * Saves a run's `progress` (0–1) and, when given, its `checkpoint`, and extends its lease by
 * `leaseSeconds`; returns whether the job's owner asked to cancel. Errors: `LeaseLost` when
 * the run no longer holds the lease.
 */
export async function heartbeat(
  id: string,
  owner: string,
  leaseSeconds: number,
  progress: number,
  checkpoint?: unknown,
): Promise<{ cancelRequested: boolean }> {
  const sql = getSql();
  const saved =
    checkpoint === undefined ? sql`checkpoint` : sql`${sql.json(checkpoint as never)}::jsonb`;
  const [row] = await sql<{ cancel_requested: boolean }[]>`
    UPDATE jobs SET progress = ${Math.min(1, Math.max(0, progress))}, checkpoint = ${saved},
      lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
    WHERE id = ${id} AND lease_owner = ${owner}
    RETURNING cancel_requested`;
  if (!row) throw new LeaseLost(id);
  return { cancelRequested: row.cancel_requested };
}

/** How a run ends, as recorded on its job. */
export type RunEnd =
  | { status: 'succeeded'; result: JobResult }
  | { status: 'cancelled' }
  | { status: 'failed'; error: JobError }
  | { status: 'retry'; error: JobError; delaySeconds: number }
  | { status: 'yielded' };

/**
 * Records the end of `owner`'s run of job `id` and releases its lease: finished
 * (`succeeded` with progress 1, `cancelled`, `failed`, with `finished_at`; the checkpoint
 * dropped), back to `queued` until `delaySeconds` have passed (a retry: checkpoint dropped,
 * the attempt's error kept), or still `running` with its checkpoint (yielded: a
 * continuation message follows). Errors: `LeaseLost` when the run no longer holds the lease.
 */
export async function endRun(id: string, owner: string, end: RunEnd): Promise<JobRow> {
  const sql = getSql();
  let change: ReturnType<typeof sql>;
  switch (end.status) {
    case 'succeeded':
      change = sql`status = 'succeeded', progress = 1, result = ${sql.json(end.result as never)},
        error = NULL, checkpoint = NULL, finished_at = now()`;
      break;
    case 'cancelled':
      change = sql`status = 'cancelled', checkpoint = NULL, finished_at = now()`;
      break;
    case 'failed':
      change = sql`status = 'failed', error = ${sql.json(end.error as never)}, checkpoint = NULL,
        finished_at = now()`;
      break;
    case 'retry':
      change = sql`status = 'queued', error = ${sql.json(end.error as never)}, checkpoint = NULL,
        progress = 0, not_before = now() + make_interval(secs => ${end.delaySeconds})`;
      break;
    case 'yielded':
      change = sql`status = 'running'`;
      break;
  }
  const [row] = await sql<JobRow[]>`
    UPDATE jobs SET ${change}, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
    WHERE id = ${id} AND lease_owner = ${owner}
    RETURNING *`;
  if (!row) throw new LeaseLost(id);
  return row;
}

/**
 * Runs `work` in one transaction that holds `owner`'s lease of job `id` (its row locked
 * first) and saves the checkpoint `work` returns with it, so what `work` writes commits
 * if and only if the run still holds the job. Errors: `LeaseLost`; whatever `work` throws.
 */
export async function commitWithLease<C>(
  id: string,
  owner: string,
  work: (tx: TransactionSql) => Promise<C>,
): Promise<C> {
  return getSql().begin(async (tx) => {
    const [held] = await tx`
      SELECT 1 FROM jobs WHERE id = ${id} AND lease_owner = ${owner} FOR UPDATE`;
    if (!held) throw new LeaseLost(id);
    const checkpoint = await work(tx);
    await tx`UPDATE jobs SET checkpoint = ${tx.json(checkpoint as never)}, updated_at = now()
      WHERE id = ${id}`;
    return checkpoint;
  }) as Promise<C>;
}

/**
 * How long an upload's row is kept, in days: the bucket deletes its object after one day
 * (infra/storage.ts; S3 runs lifecycle expiry asynchronously, within about a day more), so
 * after two the row names nothing and an import of it would fail anyway; it is then gone
 * and the upload unknown (422).
 */
export const UPLOAD_RETENTION_DAYS = 2;

/**
 * Deletes at most `limit` uploads created more than `UPLOAD_RETENTION_DAYS` ago, oldest first
 * (`uploads_created_idx`; rows locked by another purge are skipped), and returns how many.
 * For `functions/workers/retention.ts`.
 */
export function purgeExpiredUploads(limit: number): Promise<number> {
  return purgeOldest(
    {
      table: 'uploads',
      endedAt: (sql) => sql`created_at`,
      keepFor: { days: UPLOAD_RETENTION_DAYS },
    },
    limit,
  );
}
