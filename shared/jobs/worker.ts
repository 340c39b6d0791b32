/**
 * The run of one job from one jobs-queue message (API.md § Background jobs): the lease,
 * attempts, progress, cancellation, continuation and retries around a type's `JobRunner`.
 * The job's row is the truth; a message only says "run job X now". So a duplicate delivery,
 * a late continuation or an early retry message is harmless: a message that finds its job
 * leased comes back later, one that finds it finished is dropped.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { ConfigError, getConfig } from '../config.js';
import type { TransactionSql } from '../db/client.js';
import { logger } from '../logger.js';
import { sendMessage } from '../queue/sqs.js';
import * as repository from './repository.js';
import type { JobError, JobResult, JobType } from './schemas.js';

/** How long a run's lease lasts without a heartbeat, in seconds (well above one chunk's work). */
export const LEASE_SECONDS = 120;

/** A job-queue message: the outbox event (or the worker's own continuation) naming the job. */
export const JobMessage = z.object({
  event_id: z.string(),
  type: z.literal('job.run'),
  occurred_at: z.string(),
  payload: z.object({ job_id: z.uuid() }),
});

/** What a step between two chunks of work tells the runner to do next. */
export type StepAnswer = 'continue' | 'cancel' | 'yield';

/** A run as its runner sees it. `C` is the runner's checkpoint (JSON). */
export interface RunContext<C> {
  job: repository.JobRow;
  /** Where the last run of this attempt stopped; null on a fresh start. */
  checkpoint: C | null;
  /**
   * Call between chunks: saves `progress` (0–1) and, when given, `checkpoint`, and renews
   * the lease. `cancel`: the owner asked to stop (clean up, return `cancelled`). `yield`
   * (only when a checkpoint was saved): little of the invocation is left, return `yielded`
   * and a new message continues from the checkpoint. Errors: `LeaseLost`.
   */
  step(progress: number, checkpoint?: C): Promise<StepAnswer>;
  /**
   * Runs `work` in one transaction that commits only while this run holds the lease, and
   * saves the checkpoint it returns in the same transaction (a final write done once).
   * Errors: `LeaseLost`; whatever `work` throws.
   */
  commit(work: (tx: TransactionSql) => Promise<C>): Promise<C>;
}

/** How a runner's run ended (errors are thrown: `PermanentJobError` or any other). */
export type RunnerOutcome = { result: JobResult } | 'cancelled' | 'yielded';

/** The work of one job type. */
export interface JobRunner<C> {
  run(context: RunContext<C>): Promise<RunnerOutcome>;
  /**
   * Drops what a stopped attempt left behind (a multipart upload, staged rows): after a
   * cancel, a failure, or before a retry starts over. Best effort; must be idempotent.
   */
  cleanup(job: repository.JobRow, checkpoint: C | null): Promise<void>;
}

/** The job of a message is being run by another run (its lease is live). */
export class JobBusy extends Error {
  constructor(jobId: string) {
    super(
      `Job ${jobId} is running elsewhere; its message comes back after the visibility timeout.`,
    );
    this.name = 'JobBusy';
  }
}

/** A failure no retry can fix (invalid rows, a missing upload): the job fails at once. */
export class PermanentJobError extends Error {
  constructor(readonly detail: JobError) {
    super(detail.message);
    this.name = 'PermanentJobError';
  }
}

/**
 * The delay before retry number `attempt` (the attempt that just failed, from 1), in
 * seconds: exponential backoff with "equal jitter" (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): half of `base × 2^(attempt−1)` fixed, half random, at most 900 (the
 * longest SQS `DelaySeconds`). `random` in [0, 1).
 */
export function retryDelaySeconds(attempt: number, base: number, random = Math.random()): number {
  const ceiling = Math.min(900, base * 2 ** Math.max(0, attempt - 1));
  return Math.min(900, Math.round(ceiling / 2 + (ceiling / 2) * random));
}

function jobsQueueUrls(): { queue: string; dlq: string } {
  const { JOBS_QUEUE_URL, JOBS_DLQ_URL } = getConfig();
  if (!JOBS_QUEUE_URL || !JOBS_DLQ_URL) {
    throw new ConfigError('JOBS_QUEUE_URL and JOBS_DLQ_URL must be set for the jobs worker.');
  }
  return { queue: JOBS_QUEUE_URL, dlq: JOBS_DLQ_URL };
}

function runMessage(jobId: string): string {
  return JSON.stringify({
    event_id: randomUUID(),
    type: 'job.run',
    occurred_at: new Date().toISOString(),
    payload: { job_id: jobId },
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the job a jobs-queue `record` names with the runner of its type, in this invocation
 * (`context` tells how much of it is left). Returns normally when the message is done with
 * (the job finished, or was handed to a retry or continuation message); throws to have SQS
 * deliver it again: `JobBusy` while another run holds the job, a malformed message or an
 * unknown job (after `maxReceiveCount` deliveries it is in the DLQ), or a failure to record
 * the run's end (the next delivery resumes from the checkpoint).
 * A job whose last attempt fails is `failed` and its message is sent to the DLQ.
 */
export async function runJobMessage(
  record: SQSRecord,
  context: Context,
  runners: Record<JobType, JobRunner<unknown>>,
): Promise<void> {
  const message = JobMessage.parse(JSON.parse(record.body));
  const jobId = message.payload.job_id;
  const config = getConfig();
  const urls = jobsQueueUrls();
  const runId = randomUUID();
  const claim = await repository.claimJob(jobId, runId, LEASE_SECONDS);
  if ('missing' in claim) throw new Error(`No job ${jobId}: the message is not for a known job.`);
  if ('finished' in claim) {
    logger.info('job message for a finished job; nothing to do', { job_id: jobId });
    return;
  }
  if ('busy' in claim) {
    // Another run holds the job (SQS delivered this message twice, or a copy of it). Not
    // acknowledged: deleting it could delete the one message of a run that then crashes.
    // SQS hands it back after the visibility timeout, when the job is finished (dropped
    // then) or its lease has expired (the job resumes from its checkpoint).
    throw new JobBusy(jobId);
  }
  if ('early' in claim) {
    // A copy of a retry's message arriving before its backoff ends: hand the job to a new
    // message that arrives on time (runs of the job that find it leased or done drop it).
    await sendMessage(urls.queue, runMessage(jobId), { delaySeconds: claim.waitSeconds });
    return;
  }
  const job = claim.claimed;
  const runner = runners[job.type];
  const started = Date.now();
  const finish = async (end: repository.RunEnd) => {
    const row = await repository.endRun(jobId, runId, end);
    logger.info('job run ended', {
      job_id: jobId,
      job_type: job.type,
      outcome: end.status,
      status: row.status,
      attempts: row.attempts,
      progress: row.progress,
      ms: Date.now() - started,
    });
    return row;
  };
  const failLastAttempt = async (error: JobError) => {
    await finish({ status: 'failed', error });
    await sendMessage(urls.dlq, record.body, {
      attributes: { job_id: jobId, error: error.message.slice(0, 256) },
    });
  };

  if (job.attempts > job.max_attempts) {
    // Runs that crashed or timed out before any checkpoint used up the attempts.
    await runner.cleanup(job, job.checkpoint);
    await failLastAttempt({
      code: 'attempt_failed',
      message: 'The job’s runs ended without finishing (time-out or crash).',
    });
    return;
  }
  if (job.cancel_requested) {
    await runner.cleanup(job, job.checkpoint);
    await finish({ status: 'cancelled' });
    return;
  }
  const run: RunContext<unknown> = {
    job,
    checkpoint: job.checkpoint ?? null,
    step: async (progress, checkpoint) => {
      const saved = await repository.heartbeat(jobId, runId, LEASE_SECONDS, progress, checkpoint);
      if (saved.cancelRequested) return 'cancel';
      if (
        checkpoint !== undefined &&
        context.getRemainingTimeInMillis() < config.JOBS_YIELD_MARGIN_MS
      ) {
        return 'yield';
      }
      return 'continue';
    },
    commit: (work) => repository.commitWithLease(jobId, runId, work),
  };
  let outcome: RunnerOutcome;
  try {
    outcome = await runner.run(run);
  } catch (error) {
    if (error instanceof repository.LeaseLost) {
      logger.warn('job run lost its lease; another run has the job', { job_id: jobId });
      return;
    }
    const latest = (await repository.findJob(job.owner_id, jobId))?.checkpoint ?? null;
    await runner
      .cleanup(job, latest)
      .catch((cleanupError: unknown) =>
        logger.warn('job cleanup failed', { job_id: jobId, error: describe(cleanupError) }),
      );
    if (error instanceof PermanentJobError) {
      await finish({ status: 'failed', error: error.detail });
      return;
    }
    logger.warn('job attempt failed', {
      job_id: jobId,
      attempt: job.attempts,
      error: describe(error),
    });
    const detail: JobError = { code: 'attempt_failed', message: describe(error).slice(0, 500) };
    if (job.attempts >= job.max_attempts) {
      await failLastAttempt(detail);
      return;
    }
    const delaySeconds = retryDelaySeconds(job.attempts, config.JOBS_RETRY_BASE_SECONDS);
    await finish({ status: 'retry', error: detail, delaySeconds });
    await sendMessage(urls.queue, runMessage(jobId), { delaySeconds });
    return;
  }
  if (outcome === 'cancelled') {
    await runner.cleanup(job, (await repository.findJob(job.owner_id, jobId))?.checkpoint ?? null);
    await finish({ status: 'cancelled' });
  } else if (outcome === 'yielded') {
    // Lease released first, so the continuation (which may arrive at once) can take it.
    await finish({ status: 'yielded' });
    await sendMessage(urls.queue, runMessage(jobId));
  } else {
    await finish({ status: 'succeeded', result: outcome.result });
  }
}
