import { createHandler } from '../../shared/http/handler.js';
import type { Job } from '../../shared/jobs/schemas.js';
import { POLL_AFTER_SECONDS, submitJob } from '../../shared/jobs/service.js';
import { jobsRoutes } from '../../shared/routes/jobs.js';

const reply = (job: Job) => ({
  status: 202 as const,
  body: job,
  headers: { Location: `/api/v1/jobs/${job.id}`, 'Retry-After': String(POLL_AFTER_SECONDS) },
});

// Committed with the job: with an Idempotency-Key, the key's record and this reply.
export const handler = createHandler(
  jobsRoutes.submitJob,
  async ({ principal, body, idempotency }) =>
    reply(await submitJob(principal, body, idempotency?.hooks(reply))),
);
