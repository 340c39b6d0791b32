import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invokeScoped, lambdaContext } from '../../infra/local/lambda.js';
import { reconcileBatchResponse, sqsBatchHandler } from '../../shared/queue/batch.js';
import { fuzzRuns } from './middleware/harness.js';

const record = (messageId: string, body = '{}') =>
  ({
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:test',
    awsRegion: 'eu-west-1',
  }) as unknown as SQSRecord;

const failures = (ids: string[]) => ({
  batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })),
});

describe('reconcileBatchResponse', () => {
  it('keeps the reported response when it names exactly the records that did not succeed', () => {
    const records = [record('a'), record('b'), record('c')];
    const reported = failures(['b']);
    const outcomes = new Map([
      ['a', 'success'],
      ['b', 'failure'],
      ['c', 'success'],
    ] as const);
    expect(reconcileBatchResponse(records, outcomes, reported)).toBe(reported);
  });

  it('never acknowledges a record whose handler did not succeed, whatever was reported (property)', () => {
    const outcome = fc.constantFrom('success', 'failure', 'unhandled');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.uuid(), outcome), { selector: ([id]) => id, maxLength: 10 }),
        fc.array(fc.uuid(), { maxLength: 10 }),
        (batch, reportedIds) => {
          const records = batch.map(([id]) => record(id));
          const outcomes = new Map(
            batch.filter(([, o]) => o !== 'unhandled') as [string, 'success' | 'failure'][],
          );
          const answer = reconcileBatchResponse(records, outcomes, failures(reportedIds));
          const named = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
          for (const [id, o] of batch) expect(named.has(id)).toBe(o !== 'success');
          // Nothing outside the batch, and no record named twice.
          expect(named.size).toBe(answer.batchItemFailures.length);
          for (const id of named) expect(batch.some(([b]) => b === id)).toBe(true);
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });
});

describe('sqsBatchHandler', () => {
  const handler = sqsBatchHandler(async (r) => {
    if (r.body.includes('poison')) throw new Error('poison');
  });
  const batch = [record('m1'), record('m2', 'poison'), record('m3'), record('m4', 'poison')];

  it('reports exactly the failed records, called directly or in an invocation scope', async () => {
    const context = lambdaContext('workers/test');
    expect(await handler({ Records: batch }, context)).toEqual(failures(['m2', 'm4']));
    expect(await invokeScoped(handler as never, { Records: batch }, context)).toEqual(
      failures(['m2', 'm4']),
    );
  });

  it('keeps overlapping invocations apart (as the local stack runs them)', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        invokeScoped(
          handler as never,
          { Records: [record(`ok-${i}`), record(`bad-${i}`, 'poison')] },
          lambdaContext('workers/test'),
        ),
      ),
    );
    answers.forEach((answer, i) => {
      expect(answer).toEqual(failures([`bad-${i}`]));
    });
  });

  it('fails the whole invocation when every record fails, so SQS redelivers all of it', async () => {
    await expect(
      handler({ Records: [record('p1', 'poison')] }, lambdaContext('workers/test')),
    ).rejects.toThrow();
  });
});
