import { createHandler } from '../../shared/http/handler.js';
import { POLL_AFTER_SECONDS, retryJob } from '../../shared/jobs/service.js';
import { jobsRoutes } from '../../shared/routes/jobs.js';

export const handler = createHandler(jobsRoutes.retryJob, async ({ principal, path }) => {
  const job = await retryJob(principal, path.id);
  return {
    status: 202,
    body: job,
    headers: { Location: `/api/v1/jobs/${job.id}`, 'Retry-After': String(POLL_AFTER_SECONDS) },
  };
});
