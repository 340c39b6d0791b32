import { createHandler } from '../../shared/http/handler.js';
import { getJob, isActive, POLL_AFTER_SECONDS } from '../../shared/jobs/service.js';
import { jobsRoutes } from '../../shared/routes/jobs.js';

export const handler = createHandler(jobsRoutes.getJob, async ({ principal, path }) => {
  const job = await getJob(principal, path.id);
  const headers: Record<string, string> = {};
  if (isActive(job)) headers['Retry-After'] = String(POLL_AFTER_SECONDS);
  return { status: 200, body: job, headers };
});
