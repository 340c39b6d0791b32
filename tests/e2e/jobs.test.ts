import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalFiles } from '../../infra/local/s3.js';
import { startEventSourceMappings, startLocalQueues } from '../../infra/local/sqs.js';
import { eventually } from '../helpers/eventually.js';

// Jobs end to end: the routes → outbox → SQS (fauxqs) → the jobs worker on the local event
// source mapping → S3 (fauxqs behind the local presigned-URL check) → polling. Its own
// queues and bucket; retries without backoff so a failed attempt is retried at once.
const queues = await startLocalQueues({ visibilityTimeoutSeconds: 1 });
const files = await startLocalFiles(queues);
Object.assign(process.env, queues.env, files.env, {
  OUTBOX_PUBLISH_TIMEOUT_MS: '1000',
  JOBS_RETRY_BASE_SECONDS: '0',
});
const mappings = startEventSourceMappings(queues, { relayIntervalMs: 250 });
afterAll(async () => {
  await mappings.stop();
  await files.stop();
  await queues.stop();
});

const { useApi } = await import('../helpers/api.js');
const { createUser } = await import('../helpers/users.js');
const { getSql } = await import('../../shared/db/client.js');
const api = useApi();
type TestUser = Awaited<ReturnType<typeof createUser>>;

/** `count` notes of `owner`, every `archivedEvery`-th archived, with CSV-hostile content. */
async function seedNotes(owner: TestUser, count: number, archivedEvery = 0) {
  await getSql()`
    INSERT INTO notes (owner_id, title, content, created_at, archived_at)
    SELECT ${owner.id}, 'note ' || i, 'line one, "quoted"' || chr(10) || 'line ' || i,
      now() - make_interval(secs => ${count} - i),
      CASE WHEN ${archivedEvery} > 0 AND i % ${archivedEvery} = 0 THEN now() END
    FROM generate_series(1, ${count}) AS i`;
}

/** Polls the job until its status is one of `statuses`; returns it. */
async function settled(
  user: TestUser,
  id: string,
  statuses = ['succeeded', 'failed', 'cancelled'],
) {
  return eventually(async () => {
    const job = await api.get(`/api/v1/jobs/${id}`, { token: user.token });
    expect(job.status).toBe(200);
    return statuses.includes(job.body.status) ? job.body : null;
  }, 60);
}

async function submit(user: TestUser, body: unknown, headers: Record<string, string> = {}) {
  const response = await api.post('/api/v1/jobs', { token: user.token, body, headers });
  expect(response.status, response.text).toBe(202);
  return response;
}

/** An upload of `csv` by `admin`: the presigned PUT done as a client would (fetch). */
async function upload(admin: TestUser, csv: string) {
  const size = Buffer.byteLength(csv);
  const created = await api.post('/api/v1/uploads', {
    token: admin.token,
    body: { filename: 'stock.csv', content_type: 'text/csv', size },
  });
  expect(created.status, created.text).toBe(201);
  const put = await fetch(created.body.url, {
    method: 'PUT',
    headers: created.body.headers,
    body: csv,
  });
  expect(put.status, await put.clone().text()).toBe(200);
  return created.body as { upload_id: string; url: string; headers: Record<string, string> };
}

function inventoryCsv(productid: string, rows: number, bad?: { line: number; text: string }) {
  const lines = ['productid,quantity,timestamp'];
  for (let i = 1; i <= rows; i++) {
    lines.push(`${productid},${i},2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`);
  }
  if (bad) lines[bad.line - 1] = bad.text;
  return `${lines.join('\n')}\n`;
}

const storedRows = async (productid: string) =>
  (
    await getSql()<{ n: number }[]>`
      SELECT count(*)::int AS n FROM inventory_records WHERE productid = ${productid}`
  )[0]?.n;

describe('notes.export', () => {
  it('exports 10,000 notes as JSON Lines to a presigned URL; progress 1, one attempt', async () => {
    const user = await createUser(api);
    await seedNotes(user, 10_000, 10);
    const submitted = await submit(user, { type: 'notes.export', params: { format: 'jsonl' } });
    expect(submitted.body.status).toBe('queued');
    expect(submitted.headers.get('location')).toBe(`/api/v1/jobs/${submitted.body.id}`);
    expect(Number(submitted.headers.get('retry-after'))).toBeGreaterThan(0);

    const job = await settled(user, submitted.body.id);
    expect(job).toMatchObject({ status: 'succeeded', progress: 1, attempts: 1, error: null });
    expect(job.result.rows).toBe(9_000); // archived notes left out by default
    expect(Date.parse(job.result.expires_at) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(Date.parse(job.result.expires_at) - Date.now()).toBeLessThanOrEqual(15 * 60_000);

    const download = await fetch(job.result.url);
    expect(download.status).toBe(200);
    const lines = (await download.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(9_000);
    const notes = lines.map((line) => JSON.parse(line));
    expect(new Set(notes.map((n) => n.id)).size).toBe(9_000);
    expect(notes[0]).toMatchObject({ title: 'note 1', archived: false, version: 1 });
    expect(notes[0].content).toBe('line one, "quoted"\nline 1');
    expect(notes.every((n) => n.archived === false)).toBe(true);
    // A finished job has no Retry-After.
    const final = await api.get(`/api/v1/jobs/${job.id}`, { token: user.token });
    expect(final.headers.get('retry-after')).toBeNull();
  });

  it('exports CSV with archived notes when asked; quotes and newlines survive', async () => {
    const user = await createUser(api);
    await seedNotes(user, 300, 3);
    const submitted = await submit(user, {
      type: 'notes.export',
      params: { format: 'csv', archived: true },
    });
    const job = await settled(user, submitted.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.result.rows).toBe(300);
    const text = await (await fetch(job.result.url)).text();
    expect(text.split('\r\n')[0]).toBe('id,title,content,archived,created_at,updated_at');
    const records: string[][] = parseCsv(text);
    expect(records).toHaveLength(301);
    expect(records[1]?.[2]).toBe('line one, "quoted"\nline 1');
    expect(records.slice(1).filter((r) => r[3] === 'true')).toHaveLength(100);
  });

  it('an empty export succeeds with 0 rows and an empty file', async () => {
    const user = await createUser(api);
    const job = await settled(
      user,
      (await submit(user, { type: 'notes.export', params: { format: 'jsonl' } })).body.id,
    );
    expect(job).toMatchObject({ status: 'succeeded', result: { rows: 0 } });
    expect(await (await fetch(job.result.url)).text()).toBe('');
  });

  it('replays a submit with the same Idempotency-Key: one job', async () => {
    const user = await createUser(api);
    const body = { type: 'notes.export', params: { format: 'csv' } };
    const key = { 'idempotency-key': `export-${user.id}` };
    const first = await submit(user, body, key);
    const again = await submit(user, body, key);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const list = await api.get('/api/v1/jobs', { token: user.token });
    expect(list.body.items).toHaveLength(1);
  });
});

describe('inventory.import', () => {
  it('imports an uploaded CSV: every row stored, progress 1', async () => {
    const admin = await createUser(api, 'admin');
    const productid = `IMP-${admin.id.slice(0, 8)}`;
    const file = await upload(admin, inventoryCsv(productid, 2_500));
    const submitted = await submit(admin, {
      type: 'inventory.import',
      params: { upload_id: file.upload_id },
    });
    const job = await settled(admin, submitted.body.id);
    expect(job).toMatchObject({ status: 'succeeded', progress: 1, result: { rows: 2_500 } });
    expect(await storedRows(productid)).toBe(2_500);
    const query = await api.get(`/api/v1/inventory/query?productid=${productid}&limit=1`, {
      token: admin.token,
    });
    expect(query.body.count).toBe(1);
    expect(query.body.items[0]).toMatchObject({ productid });
  });

  it('a CSV with one bad row stores nothing and reports the row', async () => {
    const admin = await createUser(api, 'admin');
    const productid = `BAD-${admin.id.slice(0, 8)}`;
    const csv = inventoryCsv(productid, 1_000, {
      line: 501,
      text: `${productid},-3,2026-01-01T00:00:00Z`,
    });
    const file = await upload(admin, csv);
    const job = await settled(
      admin,
      (await submit(admin, { type: 'inventory.import', params: { upload_id: file.upload_id } }))
        .body.id,
    );
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1); // bad input is not retried
    expect(job.error.code).toBe('invalid_rows');
    expect(job.error.rows).toEqual([expect.objectContaining({ line: 501, field: 'quantity' })]);
    expect(await storedRows(productid)).toBe(0);
    const staged = await getSql()<{ n: number }[]>`
      SELECT count(*)::int AS n FROM inventory_import_rows WHERE job_id = ${job.id}`;
    expect(staged[0]?.n).toBe(0);
  });

  it('a file without the header line fails as invalid_file', async () => {
    const admin = await createUser(api, 'admin');
    const file = await upload(admin, 'A-1,1,2026-01-01T00:00:00Z\n');
    const job = await settled(
      admin,
      (await submit(admin, { type: 'inventory.import', params: { upload_id: file.upload_id } }))
        .body.id,
    );
    expect(job).toMatchObject({ status: 'failed', error: { code: 'invalid_file' } });
  });

  it('retry: an import submitted before its file was PUT fails, then succeeds once retried', async () => {
    const admin = await createUser(api, 'admin');
    const productid = `RTY-${admin.id.slice(0, 8)}`;
    const csv = inventoryCsv(productid, 10);
    const created = await api.post('/api/v1/uploads', {
      token: admin.token,
      body: { filename: 'late.csv', content_type: 'text/csv', size: Buffer.byteLength(csv) },
    });
    const id = (
      await submit(admin, {
        type: 'inventory.import',
        params: { upload_id: created.body.upload_id },
      })
    ).body.id;
    const failed = await settled(admin, id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'upload_missing' } });
    // Only a failed job can be retried; a finished one cannot be cancelled.
    expect((await api.post(`/api/v1/jobs/${id}/cancel`, { token: admin.token })).status).toBe(409);

    const put = await fetch(created.body.url, {
      method: 'PUT',
      headers: created.body.headers,
      body: csv,
    });
    expect(put.status).toBe(200);
    const retried = await api.post(`/api/v1/jobs/${id}/retry`, { token: admin.token });
    expect(retried.status, retried.text).toBe(202);
    expect(retried.body).toMatchObject({ status: 'queued', attempts: 0, error: null });
    const job = await settled(admin, id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, result: { rows: 10 } });
    expect((await api.post(`/api/v1/jobs/${id}/retry`, { token: admin.token })).status).toBe(409);
    expect(await storedRows(productid)).toBe(10);
  });

  it('refuses imports of non-admins (403) and unknown uploads (422)', async () => {
    const user = await createUser(api);
    const admin = await createUser(api, 'admin');
    const other = await createUser(api, 'admin');
    const file = await upload(other, inventoryCsv('X-1', 1));
    const asUser = await api.post('/api/v1/jobs', {
      token: user.token,
      body: { type: 'inventory.import', params: { upload_id: file.upload_id } },
    });
    expect(asUser.status).toBe(403);
    // Another admin's upload is as unknown as a random id.
    const foreign = await api.post('/api/v1/jobs', {
      token: admin.token,
      body: { type: 'inventory.import', params: { upload_id: file.upload_id } },
    });
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors).toEqual([
      expect.objectContaining({ field: 'params.upload_id', code: 'unknown_upload' }),
    ]);
  });
});

describe('uploads: the presigned PUT’s limits', () => {
  it('signs the size and type: another Content-Length or Content-Type is refused', async () => {
    const admin = await createUser(api, 'admin');
    const created = await api.post('/api/v1/uploads', {
      token: admin.token,
      body: { filename: 'stock.csv', content_type: 'text/csv', size: 5 },
    });
    expect(created.status).toBe(201);
    const { url, headers, expires_at } = created.body;
    expect(headers).toEqual({ 'content-type': 'text/csv', 'content-length': '5' });
    const expiresIn = Date.parse(expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(14 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(15 * 60_000);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('900');
    const bigger = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'text/csv' },
      body: '123456',
    });
    expect(bigger.status).toBe(403);
    const html = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'text/html' },
      body: '12345',
    });
    expect(html.status).toBe(403);
    const right = await fetch(url, { method: 'PUT', headers, body: '12345' });
    expect(right.status).toBe(200);
  });

  it('refuses a file over 100 MiB, another content type and a path in the name (422)', async () => {
    const admin = await createUser(api, 'admin');
    const cases = [
      { filename: 'a.csv', content_type: 'text/csv', size: 100 * 1024 * 1024 + 1 },
      { filename: 'a.csv', content_type: 'text/plain', size: 10 },
      { filename: '../a.csv', content_type: 'text/csv', size: 10 },
      { filename: 'a.csv', content_type: 'text/csv', size: 0 },
    ];
    for (const body of cases) {
      const response = await api.post('/api/v1/uploads', { token: admin.token, body });
      expect(response.status, JSON.stringify(body)).toBe(422);
    }
    const user = await createUser(api);
    const asUser = await api.post('/api/v1/uploads', {
      token: user.token,
      body: { filename: 'a.csv', content_type: 'text/csv', size: 10 },
    });
    expect(asUser.status).toBe(403);
  });
});

describe('jobs of others, lists, cancel', () => {
  it('another user’s job is 404 for get, retry and cancel, and absent from their list', async () => {
    const owner = await createUser(api);
    const other = await createUser(api);
    const id = (await submit(owner, { type: 'notes.export', params: { format: 'jsonl' } })).body.id;
    for (const [method, path] of [
      ['GET', `/api/v1/jobs/${id}`],
      ['POST', `/api/v1/jobs/${id}/retry`],
      ['POST', `/api/v1/jobs/${id}/cancel`],
    ] as const) {
      const response = await api.request(method, path, { token: other.token });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    const list = await api.get('/api/v1/jobs', { token: other.token });
    expect(list.body.items).toEqual([]);
  });

  it('lists the caller’s jobs newest first, by keyset, filtered by status and type', async () => {
    const user = await createUser(api);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await submit(user, { type: 'notes.export', params: { format: 'csv' } })).body.id);
    }
    const first = await api.get('/api/v1/jobs?limit=2', { token: user.token });
    expect(first.body.items.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[3]]);
    const second = await api.get(`/api/v1/jobs?limit=2&cursor=${first.body.next_cursor}`, {
      token: user.token,
    });
    expect(second.body.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    const imports = await api.get('/api/v1/jobs?type=inventory.import', { token: user.token });
    expect(imports.body.items).toEqual([]);
    const wrongCursor = await api.get(
      `/api/v1/jobs?limit=2&status=failed&cursor=${first.body.next_cursor}`,
      { token: user.token },
    );
    expect(wrongCursor.status).toBe(400);
  });
});

describe('poison messages', () => {
  it('a message that names no job is redelivered until SQS moves it to the jobs DLQ', async () => {
    const sqs = new SQSClient({
      region: queues.env.AWS_REGION,
      endpoint: queues.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const body = `not a job ${Date.now()}`;
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.urls.jobs, MessageBody: body }));
    const dead = await eventually(async () => {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.urls['jobs-dlq'],
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      return received.Messages?.find((m) => m.Body === body);
    }, 60);
    expect(dead.Body).toBe(body);
    sqs.destroy();
  });
});
