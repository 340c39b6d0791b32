import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { startEventSourceMappings, startLocalQueues } from '../../infra/local/sqs.js';
import { eventually } from '../helpers/eventually.js';

// This file runs its own SQS (fauxqs) and event source mapping, with a 1 s visibility
// timeout so redeliveries and the DLQ are reached in seconds, and a fast relay.
const queues = await startLocalQueues({ visibilityTimeoutSeconds: 1 });
Object.assign(process.env, queues.env, { OUTBOX_PUBLISH_TIMEOUT_MS: '500' });
const workerErrors: unknown[] = [];
let mappings = startEventSourceMappings(queues, {
  relayIntervalMs: 250,
  onError: (e) => workerErrors.push(e),
});
afterAll(async () => {
  await mappings.stop();
  await queues.stop();
});

const { useApi } = await import('../helpers/api.js');
const { createUser } = await import('../helpers/users.js');
const { getSql } = await import('../../shared/db/client.js');
const { lambdaContext, loadHandler } = await import('../../infra/local/lambda.js');
const api = useApi();

/**
 * True once nothing more can arrive for `resourceId`: every outbox row naming it is published
 * and the audit queue holds no message (ready or in flight). A positive condition to wait for
 * before asserting that something did NOT happen.
 */
async function settled(resourceId: string): Promise<boolean> {
  const [pending] = await getSql()<{ n: number }[]>`
    SELECT count(*)::int AS n FROM outbox
    WHERE payload->>'resource_id' = ${resourceId} AND published_at IS NULL`;
  const inspected = queues.server.inspectQueue('audit');
  const queued = inspected
    ? inspected.messages.ready.length + inspected.messages.inflight.length
    : 0;
  return pending?.n === 0 && queued === 0;
}

const auditRows = async (resourceId: string) =>
  getSql()<{ action: string; event_id: string }[]>`
    SELECT action, event_id FROM audit_log WHERE resource_id = ${resourceId} ORDER BY id`;

const event = (overrides: Partial<{ event_id: string; type: string }> = {}) => ({
  event_id: overrides.event_id ?? randomUUID(),
  type: overrides.type ?? 'test.event',
  occurred_at: new Date().toISOString(),
  payload: { actor_id: null, resource_type: 'test', resource_id: randomUUID(), metadata: { n: 1 } },
});

describe('audit events through the outbox, SQS and the worker', () => {
  it('archive and restore each record exactly one event; an idempotent repeat records none', async () => {
    const user = await createUser(api);
    const note = await api.post('/api/v1/notes', { token: user.token, body: { title: 'audited' } });
    const id = note.body.id;
    expect((await api.delete(`/api/v1/notes/${id}`, { token: user.token })).status).toBe(204);
    await eventually(async () => (await auditRows(id)).length === 1);
    expect((await api.delete(`/api/v1/notes/${id}`, { token: user.token })).status).toBe(204);
    expect((await api.post(`/api/v1/notes/restore/${id}`, { token: user.token })).status).toBe(200);
    await eventually(async () => (await auditRows(id)).length === 2);
    expect((await api.post(`/api/v1/notes/restore/${id}`, { token: user.token })).status).toBe(200);
    await eventually(() => settled(id));
    expect((await auditRows(id)).map((r) => r.action)).toEqual(['note.archived', 'note.restored']);
    const [outbox] = await getSql()`
      SELECT count(*)::int AS n FROM outbox WHERE payload->>'resource_id' = ${id} AND published_at IS NOT NULL`;
    expect(outbox?.n).toBe(2);
  });

  it('admins read the log (filters, keyset pages); users get 403, anonymous 401', async () => {
    const [admin, user] = await Promise.all([createUser(api, 'admin'), createUser(api)]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const note = await api.post('/api/v1/notes', { token: user.token, body: { title: `n${i}` } });
      await api.delete(`/api/v1/notes/${note.body.id}`, { token: user.token });
      ids.push(note.body.id);
    }
    const query = { actor_id: user.id, limit: 2 };
    const first = await eventually(async () => {
      const page = await api.get('/api/v1/admin/audit-log', {
        token: admin.token,
        query: { actor_id: user.id },
      });
      return page.body.items.length === 3 ? page : null;
    });
    expect(first.body.items.map((e: { resource_id: string }) => e.resource_id)).toEqual(
      [...ids].reverse(),
    );
    expect(first.body.items[0]).toMatchObject({
      action: 'note.archived',
      actor_id: user.id,
      resource_type: 'note',
    });
    const page1 = await api.get('/api/v1/admin/audit-log', { token: admin.token, query });
    expect(page1.body.items).toHaveLength(2);
    const page2 = await api.get('/api/v1/admin/audit-log', {
      token: admin.token,
      query: { ...query, cursor: page1.body.next_cursor },
    });
    expect(page2.body.items).toHaveLength(1);
    expect(page2.body.next_cursor).toBeNull();
    const restored = await api.get('/api/v1/admin/audit-log', {
      token: admin.token,
      query: { actor_id: user.id, action: 'note.restored' },
    });
    expect(restored.body.items).toEqual([]);
    const otherFilters = await api.get('/api/v1/admin/audit-log', {
      token: admin.token,
      query: { cursor: page1.body.next_cursor },
    });
    expect(otherFilters.status).toBe(400);
    expect((await api.get('/api/v1/admin/audit-log', { token: user.token })).status).toBe(403);
    expect((await api.get('/api/v1/admin/audit-log')).status).toBe(401);
    expect(
      (await api.get('/api/v1/admin/audit-log', { token: admin.token, query: { actor_id: 'x' } }))
        .status,
    ).toBe(422);
  });

  it('SQS down during the request: still 204, then the relay delivers exactly one event', async () => {
    const user = await createUser(api);
    const note = await api.post('/api/v1/notes', { token: user.token, body: { title: 'outage' } });
    const id = note.body.id;
    await mappings.stop();
    await queues.stop();
    try {
      const archived = await api.delete(`/api/v1/notes/${id}`, { token: user.token });
      expect(archived.status).toBe(204);
      const [pending] = await getSql()<{ attempts: number; published_at: Date | null }[]>`
        SELECT attempts, published_at FROM outbox WHERE payload->>'resource_id' = ${id}`;
      expect(pending?.published_at).toBeNull();
      expect(pending?.attempts).toBeGreaterThanOrEqual(1);
    } finally {
      await queues.start();
      mappings = startEventSourceMappings(queues, {
        relayIntervalMs: 250,
        onError: (e) => workerErrors.push(e),
      });
    }
    await eventually(async () => (await auditRows(id)).length === 1, 20);
    await eventually(() => settled(id));
    expect(await auditRows(id)).toHaveLength(1);
  });

  it('the same message delivered twice records one row', async () => {
    const message = event();
    queues.server.sendMessage('audit', JSON.stringify(message));
    queues.server.sendMessage('audit', JSON.stringify(message));
    await eventually(async () => (await auditRows(message.payload.resource_id)).length === 1);
    await eventually(async () => {
      const inspected = queues.server.inspectQueue('audit');
      return (
        inspected && inspected.messages.ready.length + inspected.messages.inflight.length === 0
      );
    });
    expect(await auditRows(message.payload.resource_id)).toHaveLength(1);
  });

  it('a batch with one malformed message: the others are recorded, the bad one is retried, then lands in the DLQ', async () => {
    const good = [event(), event()];
    const poison = `{"event_id":"not-a-uuid","marker":"${randomUUID()}"}`;
    queues.server.sendMessage('audit', JSON.stringify(good[0]));
    queues.server.sendMessage('audit', poison);
    queues.server.sendMessage('audit', JSON.stringify(good[1]));
    for (const message of good) {
      await eventually(async () => (await auditRows(message.payload.resource_id)).length === 1);
    }
    const dlq = await eventually(async () => {
      const inspected = queues.server.inspectQueue('audit-dlq');
      return inspected?.messages.ready.find((m) => m.body === poison);
    }, 30);
    expect(dlq).toBeTruthy();
  });

  it('the worker reports exactly the failed records in batchItemFailures', async () => {
    const ok = event();
    const sqsEvent: SQSEvent = {
      Records: [
        { messageId: 'm1', body: JSON.stringify(ok) },
        { messageId: 'm2', body: '{"broken": ' },
        { messageId: 'm3', body: JSON.stringify({ ...event(), occurred_at: 'yesterday' }) },
      ].map((r) => ({
        ...r,
        receiptHandle: r.messageId,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '0',
          SenderId: 'x',
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:audit',
        awsRegion: 'us-east-1',
      })),
    };
    const worker = await loadHandler('workers/audit');
    const result = await worker(sqsEvent, lambdaContext('workers/audit'));
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }],
    });
    expect(await auditRows(ok.payload.resource_id)).toHaveLength(1);
  });
});
