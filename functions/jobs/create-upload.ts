import { createHandler } from '../../shared/http/handler.js';
import { createUpload } from '../../shared/jobs/uploads.js';
import { jobsRoutes } from '../../shared/routes/jobs.js';

export const handler = createHandler(jobsRoutes.createUpload, async ({ principal, body }) => ({
  status: 201,
  body: await createUpload(principal, body),
}));
