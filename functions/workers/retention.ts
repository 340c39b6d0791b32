import type { Context } from 'aws-lambda';
import { purgeEndedRefreshTokens } from '../../shared/auth/refresh-tokens.js';
import { purgeExpiredIdempotencyKeys } from '../../shared/db/idempotency-keys.js';
import { purgeExpiredUploads } from '../../shared/jobs/repository.js';
import { logger } from '../../shared/logger.js';
import { purgeSentEmails } from '../../shared/mail/sent-emails.js';
import { purgePublishedOutbox } from '../../shared/queue/outbox.js';
import { retention } from '../../shared/queue/queues.js';

/**
 * What retention purges, one entry per table: a function that deletes at most `limit` rows
 * past their retention period (the period and its reason live beside the table's rules)
 * and returns how many. Adding a table is one entry here.
 */
export const purges: Record<string, (limit: number) => Promise<number>> = {
  outbox: purgePublishedOutbox,
  refresh_tokens: purgeEndedRefreshTokens,
  idempotency_keys: purgeExpiredIdempotencyKeys,
  sent_emails: purgeSentEmails,
  uploads: purgeExpiredUploads,
};

/**
 * Runs every purge in bounded batches, round robin (one batch per table per round, so a
 * large backlog in one table cannot starve the others), until each table has a short batch
 * (nothing left) or `budgetMs` has passed. Returns the rows deleted per table and whether
 * every table was drained. Idempotent: a second run deletes only what aged out meanwhile.
 * Errors: database errors (the next scheduled run starts over).
 */
export async function purgeExpiredRows(options: {
  budgetMs: number;
  batchSize?: number;
}): Promise<{ deleted: Record<string, number>; complete: boolean }> {
  const deadline = Date.now() + options.budgetMs;
  const batchSize = options.batchSize ?? retention.batchSize;
  const deleted: Record<string, number> = {};
  const pending = new Map(Object.entries(purges));
  for (const table of pending.keys()) deleted[table] = 0;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const [table, purge] of [...pending]) {
      if (Date.now() >= deadline) break;
      const count = await purge(batchSize);
      deleted[table] = (deleted[table] ?? 0) + count;
      if (count < batchSize) pending.delete(table);
    }
  }
  return { deleted, complete: pending.size === 0 };
}

/** Scheduled (EventBridge, every `retention.scheduleMinutes`): purges rows past retention. */
export const handler = async (
  _event: unknown,
  context: Context,
): Promise<{ deleted: Record<string, number>; complete: boolean }> => {
  logger.addContext(context);
  const budgetMs = Math.max(1000, context.getRemainingTimeInMillis() - 5000);
  const result = await purgeExpiredRows({ budgetMs });
  logger.info('retention purged', result);
  return result;
};
