/** Routes of background jobs and uploads (API.md § Background jobs); gathered by `./index.ts`. */
import { defineRoute, type RouteDefinition } from '../http/route.js';
import {
  CreateUploadBody,
  Job,
  JobIdParams,
  JobPage,
  ListJobsQuery,
  SubmitJobBody,
  Upload,
} from '../jobs/schemas.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';

/** A key may call the job routes with the scope of either job type (submit checks the type's). */
const JOB_KEY_SCOPES = ['notes:read', 'inventory:write'] as const;
const RETRY_AFTER = { 'Retry-After': 'Seconds until polling the job is worth it.' };

export const jobsRoutes = {
  submitJob: defineRoute({
    method: 'POST',
    path: '/api/v1/jobs',
    function: 'jobs/submit',
    apiKeyScope: [...JOB_KEY_SCOPES],
    auth: 'user',
    database: true,
    publishes: ['jobs'],
    idempotency: true,
    errors: [403, 404],
    rateLimit: limits.default,
    summary: 'Submit a background job (202: poll its Location)',
    description:
      '`notes.export` (`{format: "jsonl"|"csv", archived?}`; a key needs `notes:read`) writes ' +
      'your notes to a file whose presigned URL is in `result`. `inventory.import` (admins; ' +
      '`{upload_id}` of an upload; a key needs `inventory:write`) stores every row of the ' +
      'uploaded CSV (`productid,quantity,timestamp`, up to 1,000,000 rows) or, if any row is ' +
      'invalid, none, and reports the rows in `error`. An unknown upload is 422. Send an ' +
      '`Idempotency-Key` to make a retry safe.',
    tag: 'jobs',
    request: { body: SubmitJobBody },
    responses: { 202: Job },
    responseHeaders: {
      Location: 'The job: `/api/v1/jobs/{id}`.',
      ...RETRY_AFTER,
    },
  }),
  listJobs: defineRoute({
    method: 'GET',
    path: '/api/v1/jobs',
    function: 'jobs/list',
    apiKeyScope: [...JOB_KEY_SCOPES],
    errors: [400],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Your jobs, newest first',
    tag: 'jobs',
    request: { query: ListJobsQuery },
    responses: { 200: JobPage },
  }),
  getJob: defineRoute({
    method: 'GET',
    path: '/api/v1/jobs/{id}',
    function: 'jobs/get',
    apiKeyScope: [...JOB_KEY_SCOPES],
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'One of your jobs (another user’s is 404)',
    description:
      'While the job is queued or running the answer carries `Retry-After`. `progress` goes ' +
      'from 0 to 1; `attempts` counts runs (a failed run is retried with exponential backoff ' +
      'up to `max_attempts`).',
    tag: 'jobs',
    request: { path: JobIdParams },
    responses: { 200: Job },
    responseHeaders: RETRY_AFTER,
  }),
  retryJob: defineRoute({
    method: 'POST',
    path: '/api/v1/jobs/{id}/retry',
    function: 'jobs/retry',
    apiKeyScope: [...JOB_KEY_SCOPES],
    publishes: ['jobs'],
    errors: [404, 409],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Run a failed job again (others are 409)',
    description: 'Starts over with `attempts` 0 and the same params.',
    tag: 'jobs',
    request: { path: JobIdParams },
    responses: { 202: Job },
    responseHeaders: { Location: 'The job.', ...RETRY_AFTER },
  }),
  cancelJob: defineRoute({
    method: 'POST',
    path: '/api/v1/jobs/{id}/cancel',
    function: 'jobs/cancel',
    apiKeyScope: [...JOB_KEY_SCOPES],
    errors: [404, 409],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Cancel a queued or running job (a finished one is 409)',
    description:
      'A queued job is cancelled at once; a running one stops at its next checkpoint (poll ' +
      'until `status` is `cancelled`). An import stores nothing when cancelled.',
    tag: 'jobs',
    request: { path: JobIdParams },
    responses: { 202: Job },
    responseHeaders: { Location: 'The job.', ...RETRY_AFTER },
  }),
  createUpload: defineRoute({
    method: 'POST',
    path: '/api/v1/uploads',
    function: 'jobs/create-upload',
    apiKeyScope: 'inventory:write',
    auth: 'admin',
    database: true,
    files: [{ prefix: 'uploads', access: 'write' }],
    rateLimit: limits.default,
    summary: 'A presigned S3 PUT for a CSV to import (admins)',
    description:
      'PUT the file to `url` within 15 minutes with exactly the `headers` given (its ' +
      '`Content-Type` and `Content-Length` are signed: another size or type is refused), then ' +
      'submit an `inventory.import` job with the `upload_id`.',
    tag: 'jobs',
    request: { body: CreateUploadBody },
    responses: { 201: Upload },
  }),
} satisfies Record<string, RouteDefinition>;
