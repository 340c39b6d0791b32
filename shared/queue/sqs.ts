import type {
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { getConfig } from '../config.js';
import { traced } from '../observability.js';
import type { QueueName } from './queues.js';

type SqsModule = typeof import('@aws-sdk/client-sqs');

let sqs: Promise<{ sdk: SqsModule; client: SQSClient }> | undefined;

/**
 * The SQS SDK module and the instance's client, both loaded on first use: the SDK is a
 * dynamic `import()` of a package the bundle leaves external (the Lambda runtime's), so a
 * function that publishes only sometimes loads it only then, never at init. The client
 * makes one attempt with short timeouts (500 ms to connect, 2 s per request, enforced by
 * `throwOnRequestTimeout`), because the request path only makes a bounded best effort (the
 * outbox relay retries later). `SQS_ENDPOINT` points it at fauxqs locally.
 */
function loadSqs(): Promise<{ sdk: SqsModule; client: SQSClient }> {
  sqs ??= import('@aws-sdk/client-sqs').then(
    (sdk) => {
      const config = getConfig();
      const client = new sdk.SQSClient({
        region: config.AWS_REGION,
        maxAttempts: 1,
        requestHandler: {
          connectionTimeout: 500,
          requestTimeout: 2000,
          throwOnRequestTimeout: true,
        },
        ...(config.SQS_ENDPOINT ? { endpoint: config.SQS_ENDPOINT } : {}),
      });
      return { sdk, client };
    },
    (error: unknown) => {
      sqs = undefined;
      throw error;
    },
  );
  return sqs;
}

/**
 * SQS `SendMessageBatch` (at most 10 entries) through the instance's client, aborted by
 * `abortSignal` when given. Returns SQS's answer, whose `Failed` entries the caller handles.
 * Errors: SDK errors (network, timeout, throttling, an unknown queue).
 */
export async function sendMessageBatch(
  input: SendMessageBatchCommandInput,
  abortSignal?: AbortSignal,
): Promise<SendMessageBatchCommandOutput> {
  const { sdk, client } = await loadSqs();
  return traced('SQS', () =>
    client.send(new sdk.SendMessageBatchCommand(input), abortSignal ? { abortSignal } : {}),
  );
}

/**
 * SQS `SendMessage` of one `body` to `queueUrl` (a queue or a DLQ), invisible for
 * `delaySeconds` (0–900, the SQS maximum), with string `attributes`. Errors: SDK errors.
 */
export async function sendMessage(
  queueUrl: string,
  body: string,
  options: { delaySeconds?: number; attributes?: Record<string, string> } = {},
): Promise<void> {
  const { sdk, client } = await loadSqs();
  await traced('SQS', () =>
    client.send(
      new sdk.SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        DelaySeconds: Math.max(0, Math.min(900, Math.round(options.delaySeconds ?? 0))),
        MessageAttributes: Object.fromEntries(
          Object.entries(options.attributes ?? {}).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    ),
  );
}

/** The URL of a queue from the environment, or null when it is not configured. */
export function queueUrl(queue: QueueName): string | null {
  const config = getConfig();
  switch (queue) {
    case 'audit':
      return config.AUDIT_QUEUE_URL ?? null;
    case 'email':
      return config.EMAIL_QUEUE_URL ?? null;
    case 'jobs':
      return config.JOBS_QUEUE_URL ?? null;
  }
}
