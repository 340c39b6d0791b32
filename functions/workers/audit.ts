import type { SQSRecord } from 'aws-lambda';
import { AuditEventMessage } from '../../shared/audit/message.js';
import { recordEvent } from '../../shared/audit/service.js';
import { logger } from '../../shared/logger.js';
import { sqsBatchHandler } from '../../shared/queue/batch.js';

/** One audit event: validated, recorded once (a redelivery is a no-op). Throws to fail it. */
async function recordHandler(record: SQSRecord): Promise<void> {
  const event = AuditEventMessage.parse(JSON.parse(record.body));
  const inserted = await recordEvent(event);
  logger.info('audit event', {
    event_id: event.event_id,
    action: event.type,
    duplicate: !inserted,
  });
}

/**
 * SQS worker of the audit queue. Reports partial batch failures (`batchItemFailures`, with
 * `ReportBatchItemFailures` on the event source mapping): one bad message never fails the
 * others; it is redelivered and after `maxReceiveCount` lands in the DLQ (`sqsBatchHandler`:
 * a processor per invocation, its answer checked against the records handled).
 */
export const handler = sqsBatchHandler(recordHandler);
