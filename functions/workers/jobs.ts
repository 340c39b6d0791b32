import { inventoryImport } from '../../shared/jobs/inventory-import.js';
import { notesExport } from '../../shared/jobs/notes-export.js';
import type { JobType } from '../../shared/jobs/schemas.js';
import { type JobRunner, runJobMessage } from '../../shared/jobs/worker.js';
import { sqsBatchHandler } from '../../shared/queue/batch.js';

const runners: Record<JobType, JobRunner<never>> = {
  'notes.export': notesExport,
  'inventory.import': inventoryImport,
};

/**
 * SQS worker of the jobs queue (one message per invocation): runs the job the message names
 * (`runJobMessage`: lease, attempts, progress, cancellation, continuation, retries). A
 * message it throws on (malformed, an unknown job) is redelivered and, after
 * `maxReceiveCount`, in the DLQ; a job whose last attempt failed is sent there by the run.
 */
export const handler = sqsBatchHandler((record, context) =>
  runJobMessage(record, context, runners as Record<JobType, JobRunner<unknown>>),
);
