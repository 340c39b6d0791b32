import type { Context } from 'aws-lambda';
import { logger } from '../../shared/logger.js';
import { relayOutbox } from '../../shared/queue/outbox.js';

/**
 * Scheduled (EventBridge, every `outboxRelay.scheduleMinutes`): publishes outbox rows still
 * unsent, each batch claimed with a lease so no row lock is held while SQS is called.
 */
export const handler = async (
  _event: unknown,
  context: Context,
): Promise<{ published: number }> => {
  logger.addContext(context);
  const budget = Math.max(1000, context.getRemainingTimeInMillis() - 5000);
  const published = await relayOutbox(budget);
  if (published) logger.info('outbox relayed', { published });
  return { published };
};
