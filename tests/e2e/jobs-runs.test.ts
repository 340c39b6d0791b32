import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalFiles } from '../../infra/local/s3.js';
import { startLocalQueues, toSqsRecord } from '../../infra/local/sqs.js';
import { queues as queueDefinitions } from '../../shared/queue/queues.js';

// Runs of the jobs worker driven by hand, message by message, to see what the event source
// mapping hides: continuations, cancellation between chunks, duplicate deliveries, retries
// and the DLQ after the last attempt. No mapping runs here: the test receives each message
// and invokes the handler with a Lambda context of the length it wants.
const queues = await startLocalQueues();
const files = await startLocalFiles(queues);
Object.assign(process.env, queues.env, files.env, {
  OUTBOX_PUBLISH_TIMEOUT_MS: '2000',
  JOBS_RETRY_BASE_SECONDS: '0',
  JOBS_YIELD_MARGIN_MS: '60000',
});
afterAll(async () => {
  await files.stop();
  await queues.stop();
});

const { useApi } = await import('../helpers/api.js');
const { createUser } = await import('../helpers/users.js');
const { getSql } = await import('../../shared/db/client.js');
const { lambdaContext, loadHandler } = await import('../../infra/local/lambda.js');
const { eventually } = await import('../helpers/eventually.js');
const api = useApi();
type TestUser = Awaited<ReturnType<typeof createUser>>;

const sqs = new SQSClient({
  region: queues.env.AWS_REGION,
  endpoint: queues.endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const s3 = new S3Client({
  region: queues.env.AWS_REGION,
  endpoint: files.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const definition = queueDefinitions.jobs;

/**
 * The next message of `queue` that names `jobId` (others are made visible again at once);
 * deleted from the queue: the test now plays the event source mapping.
 */
async function takeMessage(jobId: string, queue = 'jobs'): Promise<SQSRecord> {
  return eventually(async () => {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.urls[queue],
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    let found: SQSRecord | null = null;
    for (const message of received.Messages ?? []) {
      if (!found && message.Body?.includes(jobId)) {
        found = toSqsRecord(message, definition);
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: queues.urls[queue],
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      } else {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queues.urls[queue],
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      }
    }
    return found;
  }, 20);
}

/** Invokes the jobs worker on `records` with `timeoutMs` left in the invocation. */
async function invokeWorker(records: SQSRecord[], timeoutMs = 900_000): Promise<SQSBatchResponse> {
  const handler = await loadHandler(definition.worker);
  const event: SQSEvent = { Records: records };
  return (await handler(event, lambdaContext(definition.worker, timeoutMs))) as SQSBatchResponse;
}

async function jobRow(id: string) {
  const [row] = await getSql()<
    { status: string; attempts: number; progress: number; checkpoint: unknown; error: unknown }[]
  >`SELECT status, attempts, progress, checkpoint, error FROM jobs WHERE id = ${id}`;
  return row;
}

async function exportObjects(jobId: string) {
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: files.env.FILES_BUCKET, Prefix: `exports/${jobId}/` }),
  );
  return listed.Contents ?? [];
}

/** `count` notes of `owner` with `size` characters of content each. */
async function seedNotes(owner: TestUser, count: number, size: number) {
  await getSql().begin(async (tx) => {
    await tx`SET LOCAL statement_timeout = '60s'`;
    await tx`
    INSERT INTO notes (owner_id, title, content, created_at)
    SELECT ${owner.id}, 'big ' || i, repeat('x', ${size}), now() - make_interval(secs => ${count} - i)
    FROM generate_series(1, ${count}) AS i`;
  });
}

async function submitExport(user: TestUser): Promise<string> {
  const response = await api.post('/api/v1/jobs', {
    token: user.token,
    body: { type: 'notes.export', params: { format: 'jsonl' } },
  });
  expect(response.status, response.text).toBe(202);
  return response.body.id;
}

describe('jobs worker runs', () => {
  it('continues in new messages from its checkpoint when the invocation runs short', async () => {
    const user = await createUser(api);
    // ~21 MB of JSON Lines: 5 parts of ≥ 5 MiB. With less than the yield margin left, each
    // invocation uploads one part, saves its checkpoint and hands over to a new message.
    await seedNotes(user, 1_200, 18_000);
    const id = await submitExport(user);
    let invocations = 0;
    for (;;) {
      const record = await takeMessage(id);
      const response = await invokeWorker([record], 30_000);
      expect(response.batchItemFailures).toEqual([]);
      invocations += 1;
      const row = await jobRow(id);
      if (row?.status === 'succeeded') break;
      expect(row?.status).toBe('running');
      expect(row?.progress).toBeGreaterThan(0);
      expect(invocations).toBeLessThan(20);
    }
    expect(invocations).toBeGreaterThanOrEqual(3);
    const job = (await api.get(`/api/v1/jobs/${id}`, { token: user.token })).body;
    expect(job).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      progress: 1,
      result: { rows: 1_200 },
    });
    const lines = (await (await fetch(job.result.url)).text()).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).title)).toEqual(
      Array.from({ length: 1_200 }, (_, i) => `big ${i + 1}`),
    );
  });

  it('cancel while running: the run stops at its next checkpoint and leaves no file', async () => {
    const user = await createUser(api);
    await seedNotes(user, 1_200, 18_000);
    const id = await submitExport(user);
    await invokeWorker([await takeMessage(id)], 30_000); // one part, then a continuation
    const running = await jobRow(id);
    expect(running?.status).toBe('running');
    const cancel = await api.post(`/api/v1/jobs/${id}/cancel`, { token: user.token });
    expect(cancel.status).toBe(202);
    expect(cancel.body.status).toBe('running'); // it stops at its next checkpoint
    await invokeWorker([await takeMessage(id)]);
    const job = (await api.get(`/api/v1/jobs/${id}`, { token: user.token })).body;
    expect(job.status).toBe('cancelled');
    expect(job.finished_at).not.toBeNull();
    expect(await exportObjects(id)).toEqual([]);
    expect((await api.post(`/api/v1/jobs/${id}/cancel`, { token: user.token })).status).toBe(409);
  });

  it('a queued job is cancelled at once and its message then does nothing', async () => {
    const user = await createUser(api);
    const id = await submitExport(user);
    const cancel = await api.post(`/api/v1/jobs/${id}/cancel`, { token: user.token });
    expect(cancel.body.status).toBe('cancelled');
    await invokeWorker([await takeMessage(id)]);
    expect(await jobRow(id)).toMatchObject({ status: 'cancelled', attempts: 0 });
  });

  it('the same message delivered twice at once runs the job once; the copy comes back later', async () => {
    const user = await createUser(api);
    await seedNotes(user, 2_000, 100);
    const id = await submitExport(user);
    const record = await takeMessage(id);
    const copy = { ...record, receiptHandle: `${record.receiptHandle}-again` };
    const answers = await Promise.allSettled([invokeWorker([record]), invokeWorker([copy])]);
    // One run did the job; the copy found it leased and was handed back to SQS (a batch of
    // one failed record fails as a whole), not acknowledged.
    const done = answers.filter((a) => a.status === 'fulfilled');
    expect(done).toHaveLength(1);
    expect(done[0]?.status === 'fulfilled' && done[0].value.batchItemFailures).toEqual([]);
    expect(await jobRow(id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await exportObjects(id)).toHaveLength(1);
    // When SQS delivers the copy again, the job is finished: acknowledged, nothing run.
    expect((await invokeWorker([copy])).batchItemFailures).toEqual([]);
    // A late redelivery of a finished job is a no-op.
    await invokeWorker([record]);
    expect(await jobRow(id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await exportObjects(id)).toHaveLength(1);
  });

  it('retries a failed attempt, then fails after max_attempts with its message in the DLQ', async () => {
    const user = await createUser(api);
    const id = await submitExport(user);
    await files.stop(); // S3 unreachable for every attempt
    try {
      for (let attempt = 1; attempt <= 3; attempt++) {
        await invokeWorker([await takeMessage(id)]);
        const row = await jobRow(id);
        expect(row?.attempts).toBe(attempt);
        expect(row?.status).toBe(attempt < 3 ? 'queued' : 'failed');
        expect(row?.error).toMatchObject({ code: 'attempt_failed' });
      }
    } finally {
      await files.start();
    }
    const dead = await takeMessage(id, 'jobs-dlq');
    expect(JSON.parse(dead.body).payload.job_id).toBe(id);
    const job = (await api.get(`/api/v1/jobs/${id}`, { token: user.token })).body;
    expect(job).toMatchObject({ status: 'failed', attempts: 3, max_attempts: 3 });
    expect(job.finished_at).not.toBeNull();
  });

  it('a message for no known job fails its record (SQS redelivers it, then the DLQ)', async () => {
    const record = toSqsRecord(
      {
        MessageId: 'poison-1',
        ReceiptHandle: 'poison',
        Body: JSON.stringify({
          event_id: 'e',
          type: 'job.run',
          occurred_at: new Date().toISOString(),
          payload: { job_id: '00000000-0000-4000-8000-000000000000' },
        }),
      },
      definition,
    );
    const garbage = toSqsRecord(
      { MessageId: 'poison-2', ReceiptHandle: 'g', Body: 'not json' },
      definition,
    );
    const response = await invokeWorker([record, garbage]).catch((error: Error) => error);
    // Every record of the batch failed: the batch fails as a whole (redelivered, then DLQ).
    expect(response).toBeInstanceOf(Error);
  });
});
