import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { getConfig } from '../config.js';
import { getSql, type Sql, type TransactionSql } from '../db/client.js';
import { logger } from '../logger.js';
import { outboxRelay, type QueueName } from './queues.js';
import { getSqs, queueUrl } from './sqs.js';

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
 * Sends `rows` (at most 10, one queue per call) with SendMessageBatch and records the outcome
 * with `sql`: published rows get `published_at`; failed ones an attempt, the error and
 * `next_attempt_at` with exponential backoff. Never throws; returns how many were sent.
 */
async function sendRows(
  sql: Sql | TransactionSql,
  rows: OutboxRow[],
  signal?: AbortSignal,
): Promise<number> {
  if (rows.length === 0) return 0;
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
      const result = await getSqs().send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: group.map((row) => ({
            Id: row.id,
            MessageBody: JSON.stringify(toMessage(row)),
            MessageAttributes: { type: { DataType: 'String', StringValue: row.type } },
          })),
        }),
        signal ? { abortSignal: signal } : {},
      );
      for (const ok of result.Successful ?? []) if (ok.Id) sent.push(ok.Id);
      for (const bad of result.Failed ?? [])
        if (bad.Id) failed.set(bad.Id, bad.Message ?? bad.Code ?? 'failed');
    } catch (error) {
      for (const row of group) failed.set(row.id, (error as Error).message);
    }
  }
  if (sent.length) {
    await sql`UPDATE outbox SET published_at = now(), last_error = NULL WHERE id = ANY(${sent}::uuid[])`;
  }
  for (const [id, message] of failed) {
    const row = rows.find((r) => r.id === id) as OutboxRow;
    await sql`
      UPDATE outbox SET attempts = attempts + 1, last_error = ${message.slice(0, 500)},
        next_attempt_at = now() + make_interval(secs => ${backoffSeconds(row.attempts + 1)})
      WHERE id = ${id}`;
  }
  if (failed.size)
    logger.warn('outbox publish failed; the relay will retry', { failed: failed.size });
  return sent.length;
}

/**
 * Publishes the just-committed events `ids` right away, as a best effort bounded by
 * `OUTBOX_PUBLISH_TIMEOUT_MS`: an SQS outage is logged, never returned to the client, and
 * the relay publishes what is left. Rows the relay already holds are skipped.
 */
export async function publishNow(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const signal = AbortSignal.timeout(getConfig().OUTBOX_PUBLISH_TIMEOUT_MS);
  try {
    await getSql().begin(async (tx) => {
      const rows = await tx<OutboxRow[]>`
        SELECT id, queue, type, payload, created_at, attempts FROM outbox
        WHERE id = ANY(${ids}::uuid[]) AND published_at IS NULL
        FOR UPDATE SKIP LOCKED`;
      await sendRows(tx, rows, signal);
    });
  } catch (error) {
    logger.warn('outbox publish after commit failed; the relay will retry', {
      error: (error as Error).message,
    });
  }
}

/**
 * The relay: publishes unsent, due outbox rows in batches of 10, each batch in its own
 * transaction with `FOR UPDATE SKIP LOCKED` (so concurrent relays and request-path
 * publishes never send a row twice at the same time), until none is due or `budgetMs`
 * has passed. Returns the number published.
 */
export async function relayOutbox(budgetMs = 20_000): Promise<number> {
  const deadline = Date.now() + budgetMs;
  let published = 0;
  while (Date.now() < deadline) {
    const { sent, found } = await getSql().begin(async (tx) => {
      const rows = await tx<OutboxRow[]>`
        SELECT id, queue, type, payload, created_at, attempts FROM outbox
        WHERE published_at IS NULL AND next_attempt_at <= now()
        ORDER BY next_attempt_at, created_at
        LIMIT ${outboxRelay.batchSize}
        FOR UPDATE SKIP LOCKED`;
      return { sent: await sendRows(tx, rows), found: rows.length };
    });
    published += sent;
    if (found < outboxRelay.batchSize || sent === 0) break;
  }
  return published;
}
