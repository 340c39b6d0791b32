import { createHandler } from '../../shared/http/handler.js';
import { listJobs } from '../../shared/jobs/service.js';
import { jobsRoutes } from '../../shared/routes/jobs.js';

export const handler = createHandler(jobsRoutes.listJobs, async ({ principal, query }) => ({
  status: 200,
  body: await listJobs(principal, query),
}));
