import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { getConfig } from '../config.js';
import type { QueueName } from './queues.js';

let client: SQSClient | undefined;

/**
 * The instance's SQS client: short connection and request timeouts and one attempt, because
 * the request path only makes a bounded best effort (the outbox relay retries later).
 * `SQS_ENDPOINT` points it at fauxqs locally.
 */
export function getSqs(): SQSClient {
  if (client) return client;
  const config = getConfig();
  client = new SQSClient({
    region: config.AWS_REGION,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 500, requestTimeout: 2000 }),
    ...(config.SQS_ENDPOINT ? { endpoint: config.SQS_ENDPOINT } : {}),
  });
  return client;
}

/** The URL of a queue from the environment, or null when it is not configured. */
export function queueUrl(queue: QueueName): string | null {
  const config = getConfig();
  switch (queue) {
    case 'audit':
      return config.AUDIT_QUEUE_URL ?? null;
  }
}
