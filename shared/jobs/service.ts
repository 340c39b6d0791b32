/**
 * Background jobs as the routes see them (API.md § Background jobs): submit, read, list,
 * retry, cancel (uploads: `./uploads.ts`). The routes only record; the SQS worker
 * (`./worker.ts`) runs.
 */
import type { Principal } from '../auth/tokens.js';
import { isForeignKeyViolation, withTransaction } from '../db/client.js';
import { type TransactionHooks, withTransactionHooks } from '../db/transaction-hooks.js';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../errors.js';
import { decodeKeysetCursor, encodeKeysetCursor, timestampValue } from '../keyset-cursor.js';
import { addToOutbox, publishNow } from '../queue/outbox.js';
import * as repository from './repository.js';
import {
  FINISHED_STATUSES,
  type Job,
  type JobPage,
  type ListJobsQuery,
  MAX_ATTEMPTS,
  type SubmitJobBody,
} from './schemas.js';

/** The outbox event that asks the worker to run a job (body of a jobs-queue message). */
export const JOB_RUN_EVENT = 'job.run';
/** Seconds a client should wait before polling a queued or running job again. */
export const POLL_AFTER_SECONDS = 2;

/** The scope an API key needs for each job type (API.md § Background jobs). */
const KEY_SCOPE_OF = { 'notes.export': 'notes:read', 'inventory.import': 'inventory:write' };

/** A job row as the API shows it (RFC 3339 UTC timestamps; no lease or checkpoint). */
export function toJob(row: repository.JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    progress: Math.round(row.progress * 10_000) / 10_000,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    params: row.params,
    result: row.result,
    error: row.error,
    created_at: row.created_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}

/** True while polling the job may still show a change (it is queued or running). */
export function isActive(job: Job): boolean {
  return !(FINISHED_STATUSES as readonly string[]).includes(job.status);
}

/** Runs `write`; a foreign-key violation (the caller's account is gone) is a 404. */
export async function asExistingAccount<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new NotFound('The account no longer exists.');
    throw error;
  }
}

/**
 * Records a queued job of the caller and its run message (outbox, same transaction),
 * published after commit. `notes.export` needs a key's `notes:read`; `inventory.import` an
 * admin (and a key's `inventory:write`) and an upload of the caller's. With `hooks` (an
 * idempotency key's) they run in the same transaction. Errors: `Forbidden` (403) for a key
 * without the type's scope or a non-admin import; `ValidationFailed` (422) on
 * `params.upload_id` for an unknown or another user's upload; `NotFound` for a deleted account.
 */
export async function submitJob(
  caller: Principal,
  body: SubmitJobBody,
  hooks?: TransactionHooks<Job>,
): Promise<Job> {
  const scope = KEY_SCOPE_OF[body.type];
  if (caller.apiKey && !caller.apiKey.scopes.includes(scope)) {
    throw new Forbidden(`This key lacks the scope ${scope}, which ${body.type} jobs need.`);
  }
  if (body.type === 'inventory.import' && caller.role !== 'admin') {
    throw new Forbidden('Imports are for admins.');
  }
  let eventId = '';
  const job = await asExistingAccount(() =>
    withTransactionHooks(async (tx) => {
      if (body.type === 'inventory.import') {
        const upload = await repository.findUpload(caller.userId, body.params.upload_id, tx);
        if (!upload) {
          throw new ValidationFailed([
            {
              field: 'params.upload_id',
              message: 'No upload with this id.',
              code: 'unknown_upload',
            },
          ]);
        }
      }
      const row = await repository.insertJob(tx, {
        ownerId: caller.userId,
        type: body.type,
        params: body.params,
        maxAttempts: MAX_ATTEMPTS,
      });
      eventId = await addToOutbox(tx, {
        queue: 'jobs',
        type: JOB_RUN_EVENT,
        payload: { job_id: row.id },
      });
      return toJob(row);
    }, hooks),
  );
  await publishNow([eventId]);
  return job;
}

/** One of the caller's jobs. Errors: `NotFound` (404) for an unknown id or another's job. */
export async function getJob(caller: Principal, id: string): Promise<Job> {
  const row = await repository.findJob(caller.userId, id);
  if (!row) throw new NotFound('No job with this id.');
  return toJob(row);
}

/**
 * A page of the caller's jobs, newest first, filtered by `status` and `type`.
 * Errors: `BadRequest` (400) for a malformed cursor or one of other filters.
 */
export async function listJobs(caller: Principal, query: ListJobsQuery): Promise<JobPage> {
  const filters = [query.status ?? null, query.type ?? null];
  const after = query.cursor ? decodeKeysetCursor(filters, query.cursor, timestampValue) : null;
  const rows = await repository.listJobs(
    caller.userId,
    { status: query.status, type: query.type, limit: query.limit },
    after,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(toJob),
    limit: query.limit,
    next_cursor:
      rows.length > query.limit && last
        ? encodeKeysetCursor(filters, { value: last.sort_key, id: last.id })
        : null,
  };
}

/**
 * Runs a failed job again from the start (attempts 0), with a new run message.
 * Errors: `NotFound` (404); `Conflict` (409) unless the job is `failed`.
 */
export async function retryJob(caller: Principal, id: string): Promise<Job> {
  const { job, eventId } = await withTransaction(async (tx) => {
    const row = await repository.lockJob(tx, caller.userId, id);
    if (!row) throw new NotFound('No job with this id.');
    if (row.status !== 'failed') {
      throw new Conflict(`Only a failed job can be retried; this one is ${row.status}.`);
    }
    const requeued = await repository.requeueJob(tx, id);
    const eventId = await addToOutbox(tx, {
      queue: 'jobs',
      type: JOB_RUN_EVENT,
      payload: { job_id: id },
    });
    return { job: toJob(requeued), eventId };
  });
  await publishNow([eventId]);
  return job;
}

/**
 * Cancels a queued job at once, or asks a running one to stop at its next checkpoint.
 * Errors: `NotFound` (404); `Conflict` (409) for a finished job.
 */
export async function cancelJob(caller: Principal, id: string): Promise<Job> {
  return withTransaction(async (tx) => {
    const row = await repository.lockJob(tx, caller.userId, id);
    if (!row) throw new NotFound('No job with this id.');
    if ((FINISHED_STATUSES as readonly string[]).includes(row.status)) {
      throw new Conflict(`The job has finished (${row.status}); there is nothing to cancel.`);
    }
    return toJob(await repository.requestCancel(tx, row));
  });
}
