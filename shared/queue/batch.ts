import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../logger.js';

/** What became of each record of a batch, by SQS message id: absent = never handled. */
export type RecordOutcomes = ReadonlyMap<string, 'success' | 'failure'>;

/**
 * The batch response to return for `records`: the one the batch processor `reported` when
 * it names exactly the records that did not succeed, else (logged as an error) one that
 * names every record not seen to succeed, in batch order. A record the handler never ran,
 * or one that failed, is then redelivered by SQS instead of being acknowledged (AWS Lambda
 * docs, "Handling errors for an SQS event source": an item missing from
 * `batchItemFailures` counts as a success and is deleted). Pure; never throws.
 */
export function reconcileBatchResponse(
  records: readonly SQSRecord[],
  outcomes: RecordOutcomes,
  reported: SQSBatchResponse,
): SQSBatchResponse {
  const expected = [
    ...new Set(records.map((r) => r.messageId).filter((id) => outcomes.get(id) !== 'success')),
  ];
  const named = new Set(reported.batchItemFailures.map((f) => f.itemIdentifier));
  if (expected.length === named.size && expected.every((id) => named.has(id))) return reported;
  logger.error(
    'batch response disagrees with the records handled; failing every record not seen to succeed',
    {
      records: records.length,
      handled: outcomes.size,
      reported_failures: named.size,
      failures: expected.length,
    },
  );
  return { batchItemFailures: expected.map((itemIdentifier) => ({ itemIdentifier })) };
}

/**
 * The Lambda handler of an SQS worker: Powertools' `BatchProcessor` runs `handleRecord` on
 * each record (in parallel) and reports partial batch failures (`ReportBatchItemFailures` on
 * the event source mapping), so a failing record alone is redelivered, and after
 * `maxReceiveCount` moves to the DLQ. The response is checked against what the handler saw
 * (`reconcileBatchResponse`), so no record is acknowledged unless its handler succeeded in
 * this invocation, whatever the processor's state store did. A batch whose records all fail
 * throws (Powertools' `FullBatchFailureError`): SQS redelivers all of it.
 * `handleRecord` (given the invocation's `context`, e.g. for its remaining time) throws to
 * fail its record.
 */
export function sqsBatchHandler(
  handleRecord: (record: SQSRecord, context: Context) => Promise<void>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    logger.addContext(context);
    const outcomes = new Map<string, 'success' | 'failure'>();
    const tracked = async (record: SQSRecord) => {
      try {
        await handleRecord(record, context);
        // The same message twice in one batch: one failure fails it.
        if (!outcomes.has(record.messageId)) outcomes.set(record.messageId, 'success');
      } catch (error) {
        outcomes.set(record.messageId, 'failure');
        throw error;
      }
    };
    const reported = await processPartialResponse(
      event,
      tracked,
      new BatchProcessor(EventType.SQS),
      { context },
    );
    return reconcileBatchResponse(event.Records, outcomes, reported);
  };
}
