import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FauxqsServer } from 'fauxqs';
import {
  outboxRelay,
  type QueueDefinition,
  queueList,
  retention,
} from '../../shared/queue/queues.js';
import { lambdaContext, loadHandler } from './lambda.js';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/**
 * True for the one warning Node prints when `node:sqlite` is first loaded (fauxqs uses it for
 * optional persistence): `ExperimentalWarning: SQLite is an experimental feature…`.
 */
function isSqliteExperimentalWarning(warning: string | Error, options: unknown): boolean {
  const type =
    typeof options === 'string'
      ? options
      : ((options as { type?: string } | undefined)?.type ??
        (warning instanceof Error ? warning.name : undefined));
  const message = typeof warning === 'string' ? warning : warning.message;
  return type === 'ExperimentalWarning' && message.startsWith('SQLite is an experimental feature');
}

let fauxqs: Promise<typeof import('fauxqs')> | undefined;

/**
 * Imports fauxqs once, without the SQLite experimental warning on stderr (`npm run dev`, the
 * tests, the bench). Node decides at `process.emitWarning` time, so that one call is dropped
 * while the import runs; every other warning goes through, and the original is put back.
 * (A `process.on('warning')` listener cannot stop Node's own printer, and
 * `--disable-warning=ExperimentalWarning` would hide every experimental feature's warning.)
 */
function importFauxqs(): Promise<typeof import('fauxqs')> {
  fauxqs ??= (async () => {
    const emitWarning = process.emitWarning;
    process.emitWarning = function (this: NodeJS.Process, warning, ...rest: unknown[]) {
      if (isSqliteExperimentalWarning(warning, rest[0])) return;
      // biome-ignore lint/suspicious/noExplicitAny: forwards whichever overload was called
      return (emitWarning as any).call(this, warning, ...rest);
    } as typeof process.emitWarning;
    try {
      return await import('fauxqs');
    } finally {
      process.emitWarning = emitWarning;
    }
  })();
  return fauxqs;
}

export interface LocalQueues {
  /** SQS endpoint for `SQS_ENDPOINT`. */
  endpoint: string;
  port: number;
  /** Queue URL by logical name (`audit`), and of its DLQ (`audit-dlq`). */
  urls: Record<string, string>;
  /** Environment for the functions: `SQS_ENDPOINT`, `<QUEUE>_QUEUE_URL` (and `<QUEUE>_DLQ_URL` of a queue that `requeues`), dummy credentials. */
  env: Record<string, string>;
  server: FauxqsServer;
  /** Stops fauxqs (an SQS outage); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Starts fauxqs (an in-process SQS emulator speaking the real wire protocol) with every
 * queue of `shared/queue/queues.ts` and its DLQ, wired by a `RedrivePolicy` with the
 * queue's `maxReceiveCount`. `visibilityTimeoutSeconds` overrides the definitions' value
 * (tests use 1 s so redelivery is quick). State is in memory: after `stop()` + `start()`
 * the queues are created again, empty.
 */
export async function startLocalQueues(
  options: { port?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<LocalQueues> {
  const { startFauxqs } = await importFauxqs();
  let server = await startFauxqs({ port: options.port ?? 0, logger: false, defaultRegion: REGION });
  const port = server.port;
  const urls: Record<string, string> = {};
  const createQueues = () => {
    for (const queue of queueList) {
      const dlq = server.createQueue(`${queue.name}-dlq`, {
        attributes: { MessageRetentionPeriod: String(queue.dlqRetentionSeconds) },
      });
      const main = server.createQueue(queue.name, {
        attributes: {
          VisibilityTimeout: String(
            options.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds,
          ),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlq.queueArn,
            maxReceiveCount: String(queue.maxReceiveCount),
          }),
        },
      });
      urls[queue.name] = main.queueUrl;
      urls[`${queue.name}-dlq`] = dlq.queueUrl;
    }
  };
  createQueues();
  const env: Record<string, string> = {
    SQS_ENDPOINT: server.address,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
  for (const queue of queueList) {
    env[`${queue.name.toUpperCase()}_QUEUE_URL`] = urls[queue.name] as string;
    if ('requeues' in queue && queue.requeues)
      env[`${queue.name.toUpperCase()}_DLQ_URL`] = urls[`${queue.name}-dlq`] as string;
  }
  return {
    endpoint: server.address,
    port,
    urls,
    env,
    get server() {
      return server;
    },
    stop: () => server.stop(),
    start: async () => {
      server = await startFauxqs({ port, logger: false, defaultRegion: REGION });
      createQueues();
    },
  };
}

/** The Lambda SQS event record for a received message (AWS docs, "Using Lambda with Amazon SQS"). */
export function toSqsRecord(message: Message, queue: QueueDefinition): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? randomUUID(),
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? ACCOUNT,
      ApproximateFirstReceiveTimestamp:
        attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          stringValue: value.StringValue,
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue.name}`,
    awsRegion: REGION,
  };
}

/**
 * The local twin of Lambda's SQS event source mapping plus the scheduled functions:
 * long-polls each queue, invokes its worker with a real SQS event (up to `batchSize`
 * records), deletes the records the worker did not report in `batchItemFailures` (all of
 * them when it throws), and leaves the failures to reappear after the visibility timeout —
 * fauxqs moves them to the DLQ after `maxReceiveCount`. Also runs the outbox relay every
 * few seconds and retention every few minutes (their `localIntervalSeconds`, or the
 * `relayIntervalMs` / `retentionIntervalMs` given). Returns a `stop()` that waits for the
 * loops to end.
 */
export function startEventSourceMappings(
  local: LocalQueues,
  options: {
    relayIntervalMs?: number;
    retentionIntervalMs?: number;
    onError?: (error: unknown) => void;
  } = {},
): { stop(): Promise<void> } {
  let running = true;
  const client = new SQSClient({
    region: REGION,
    endpoint: local.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  // Pauses end early on stop(), so stopping never waits out a schedule's interval.
  const stopped = new AbortController();
  const pause = (ms: number) =>
    sleep(ms, undefined, { signal: stopped.signal }).catch(() => undefined);
  const report = options.onError ?? (() => {});

  const poll = async (queue: QueueDefinition) => {
    while (running) {
      try {
        const received = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: local.urls[queue.name],
            MaxNumberOfMessages: queue.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            AttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, queue)) };
        let failed = new Set(event.Records.map((r) => r.messageId));
        try {
          const worker = await loadHandler(queue.worker);
          const result = (await worker(
            event,
            lambdaContext(queue.worker, queue.workerTimeoutSeconds * 1000),
          )) as SQSBatchResponse | undefined;
          failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (error) {
          report(error);
        }
        const done = event.Records.filter((r) => !failed.has(r.messageId));
        if (done.length) {
          await client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: local.urls[queue.name],
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          );
        }
      } catch (error) {
        report(error); // SQS unreachable: back off and try again
        await pause(500);
      }
    }
  };

  /** Invokes the scheduled function `file` every `intervalMs`, like an EventBridge rule. */
  const schedule = async (file: string, intervalMs: number) => {
    while (running) {
      await pause(intervalMs);
      if (!running) break;
      try {
        const handler = await loadHandler(file);
        await handler({ source: 'local.schedule' }, lambdaContext(file, 60_000));
      } catch (error) {
        report(error);
      }
    }
  };

  const loops = [
    ...queueList.map(poll),
    schedule(
      outboxRelay.function,
      options.relayIntervalMs ?? outboxRelay.localIntervalSeconds * 1000,
    ),
    schedule(
      retention.function,
      options.retentionIntervalMs ?? retention.localIntervalSeconds * 1000,
    ),
  ];
  return {
    stop: async () => {
      running = false;
      stopped.abort();
      await Promise.allSettled(loops);
      client.destroy();
    },
  };
}
