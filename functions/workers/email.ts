import type { SQSRecord } from 'aws-lambda';
import { logger } from '../../shared/logger.js';
import { sendOnce } from '../../shared/mail/sent-emails.js';
import { mailFrom } from '../../shared/mail/ses.js';
import { OrderEmailMessage } from '../../shared/orders/email-message.js';
import { renderOrderEmail } from '../../shared/orders/emails.js';
import { sqsBatchHandler } from '../../shared/queue/batch.js';

/** The event id of a body that may not parse, for the failure's log line. */
function eventIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { event_id?: unknown }).event_id;
    return typeof id === 'string' ? id.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One order event: validated, rendered, sent once (`sendOnce`: a redelivery of a sent event
 * sends nothing), or acknowledged without sending for a move that sends no e-mail. Throws to
 * fail it (malformed, SES or the database failing, another worker sending it right now).
 * One log line either way, without the recipient's address.
 */
async function sendHandler(record: SQSRecord): Promise<void> {
  try {
    const message = OrderEmailMessage.parse(JSON.parse(record.body));
    const { payload } = message;
    const email = renderOrderEmail(message);
    const outcome = email
      ? await sendOnce(message.event_id, {
          to: payload.recipient.email,
          from: mailFrom(),
          ...email,
        })
      : ({ status: 'skipped' } as const);
    logger.info('order email', {
      event_id: message.event_id,
      type: message.type,
      order_id: payload.order_id,
      order_status: payload.status,
      outcome: outcome.status,
      ...(outcome.status === 'sent' ? { ses_message_id: outcome.messageId } : {}),
    });
  } catch (error) {
    logger.warn('order email failed; SQS will redeliver it', {
      event_id: eventIdOf(record.body),
      message_id: record.messageId,
      receive_count: record.attributes.ApproximateReceiveCount,
      error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : 'unknown',
    });
    throw error;
  }
}

/**
 * SQS worker of the e-mail queue. Reports partial batch failures (`batchItemFailures`, with
 * `ReportBatchItemFailures` on the event source mapping): a bad message (invalid JSON, not
 * the schema) or a failed send fails only itself; it is redelivered, and after
 * `maxReceiveCount` lands in the DLQ (`sqsBatchHandler`, as the audit worker).
 */
export const handler = sqsBatchHandler(sendHandler);
