import { getConfig } from '../config.js';
import { getSql, type TransactionSql } from '../db/client.js';
import { purgeOldest } from '../db/purge.js';
import { logger } from '../logger.js';
import { outboxRelay, type QueueName } from './queues.js';
import { queueUrl, sendMessageBatch } from './sqs.js';

/** An event to publish after commit. `payload` is JSON. */
export interface OutboxEvent {
  queue: QueueName;
  type: string;
  payload: Record<string, unknown>;
}

/** The message body every worker receives (validated there with zod). */
export interface EventMessage {
  event_id: string;
  type: string;
  occurred_at: string;
  payload: Record<string, unknown>;
}

interface OutboxRow {
  id: string;
  queue: QueueName;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date;
  attempts: number;
}

/**
 * Adds an event to the outbox inside the caller's transaction `tx`, so it exists if and
 * only if the change it announces commits. Returns the event id.
 */
export async function addToOutbox(tx: TransactionSql, event: OutboxEvent): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    INSERT INTO outbox (queue, type, payload)
    VALUES (${event.queue}, ${event.type}, ${tx.json(event.payload as never)})
    RETURNING id`;
  return (row as { id: string }).id;
}

/** Seconds to wait before the next attempt after `attempts` failures: 2^n, at most 5 min. */
export function backoffSeconds(attempts: number): number {
  return Math.min(2 ** attempts, 300);
}

function toMessage(row: OutboxRow): EventMessage {
  return {
    event_id: row.id,
    type: row.type,
    occurred_at: row.created_at.toISOString(),
    payload: row.payload,
  };
}

/**
 * Claims outbox rows for one publisher in one short statement (committed at once): unsent
 * rows not under another publisher's lease — the given `ids`, or else the due ones, oldest
 * first — get `claimed_until` = now + `outboxRelay.leaseSeconds`. `FOR UPDATE SKIP LOCKED`
 * in the subquery lets concurrent claimers pass each other; the row locks end with the
 * statement. Returns the claimed rows (at most `limit`).
 */
function claim(limit: number, ids?: string[]): Promise<OutboxRow[]> {
  const sql = getSql();
  const filter = ids ? sql`id = ANY(${ids}::uuid[])` : sql`next_attempt_at <= now()`;
  return sql<OutboxRow[]>`
    UPDATE outbox SET claimed_until = now() + make_interval(secs => ${outboxRelay.leaseSeconds})
    WHERE id IN (
      SELECT id FROM outbox
      WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= now())
        AND ${filter}
      ORDER BY next_attempt_at, created_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id, queue, type, payload, created_at, attempts`;
}

/**
 * Sends claimed `rows` with SendMessageBatch (one call per queue, at most 10 rows), outside
 * any transaction, then records the outcome in short statements: sent rows get
 * `published_at`; failed ones an attempt, the error and `next_attempt_at` with exponential
 * backoff. Either way the lease is released. A publisher that dies before recording leaves
 * the lease to run out, and the row is sent again (at least once; workers dedupe on the
 * event id). Never throws on SQS errors; returns how many were sent.
 */
async function sendRows(rows: OutboxRow[], signal?: AbortSignal): Promise<number> {
  if (rows.length === 0) return 0;
  const sql = getSql();
  const byQueue = new Map<QueueName, OutboxRow[]>();
  for (const row of rows) byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row]);
  const sent: string[] = [];
  const failed = new Map<string, string>();
  for (const [queue, group] of byQueue) {
    const url = queueUrl(queue);
    if (!url) {
      for (const row of group) failed.set(row.id, `queue ${queue} is not configured`);
      continue;
    }
    try {
      const result = await sendMessageBatch(
        {
          QueueUrl: url,
          Entries: group.map((row) => ({
            Id: row.id,
            MessageBody: JSON.stringify(toMessage(row)),
            MessageAttributes: { type: { DataType: 'String', StringValue: row.type } },
          })),
        },
        signal,
      );
      for (const ok of result.Successful ?? []) if (ok.Id) sent.push(ok.Id);
      for (const bad of result.Failed ?? [])
        if (bad.Id) failed.set(bad.Id, bad.Message ?? bad.Code ?? 'failed');
    } catch (error) {
      for (const row of group) failed.set(row.id, (error as Error).message);
    }
  }
  if (sent.length) {
    await sql`
      UPDATE outbox SET published_at = now(), claimed_until = NULL, last_error = NULL
      WHERE id = ANY(${sent}::uuid[])`;
  }
  for (const [id, message] of failed) {
    const row = rows.find((r) => r.id === id) as OutboxRow;
    // Another publisher may have sent it after our lease ran out: leave that row alone.
    await sql`
      UPDATE outbox SET attempts = attempts + 1, last_error = ${message.slice(0, 500)},
        next_attempt_at = now() + make_interval(secs => ${backoffSeconds(row.attempts + 1)}),
        claimed_until = NULL
      WHERE id = ${id} AND published_at IS NULL`;
  }
  if (failed.size)
    logger.warn('outbox publish failed; the relay will retry', { failed: failed.size });
  return sent.length;
}

/**
 * Publishes the just-committed events `ids` right away, as a best effort bounded by
 * `OUTBOX_PUBLISH_TIMEOUT_MS`: an SQS outage is logged, never returned to the client, and
 * the relay publishes what is left. Rows another publisher has claimed are skipped.
 */
export async function publishNow(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const signal = AbortSignal.timeout(getConfig().OUTBOX_PUBLISH_TIMEOUT_MS);
  try {
    await sendRows(await claim(ids.length, ids), signal);
  } catch (error) {
    logger.warn('outbox publish after commit failed; the relay will retry', {
      error: (error as Error).message,
    });
  }
}

/**
 * The relay: publishes unsent, due outbox rows in batches of `outboxRelay.batchSize`, until
 * none is due or `budgetMs` has passed. Each batch is claimed with a lease in one short
 * statement, sent to SQS with no transaction open and no row locked, then marked (see
 * `sendRows`), so concurrent relays and request-path publishes never send a row at the same
 * time while its lease holds. Returns the number published.
 * Errors: database errors (the scheduled invocation fails and runs again next time).
 */
export async function relayOutbox(budgetMs = 20_000): Promise<number> {
  const deadline = Date.now() + budgetMs;
  let published = 0;
  while (Date.now() < deadline) {
    const rows = await claim(outboxRelay.batchSize);
    const sent = await sendRows(rows);
    published += sent;
    if (rows.length < outboxRelay.batchSize || sent === 0) break;
  }
  return published;
}

/**
 * How long a published outbox row is kept, in days: enough to trace a delivery during an
 * incident (what was sent, when, after how many attempts, with what last error); the
 * audit log is the lasting record. Unsent rows are never purged.
 */
export const PUBLISHED_OUTBOX_RETENTION_DAYS = 7;

/**
 * Deletes at most `limit` outbox rows published more than `PUBLISHED_OUTBOX_RETENTION_DAYS`
 * ago, oldest first, in one statement (index `outbox_published_idx`); rows locked by
 * someone else are left for the next batch. Returns how many it deleted.
 */
export function purgePublishedOutbox(limit: number): Promise<number> {
  return purgeOldest(
    {
      table: 'outbox',
      endedAt: (sql) => sql`published_at`,
      keepFor: { days: PUBLISHED_OUTBOX_RETENTION_DAYS },
    },
    limit,
  );
}
