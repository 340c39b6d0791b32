/**
 * `npm run dlq -- <queue> [--redrive]`: shows the messages in a queue's dead-letter queue on
 * the running `npm run dev` stack (fauxqs) — body, receive count, first receive — without
 * removing them; `--redrive` moves them back to the queue for another try.
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { queues } from '../../shared/queue/queues.js';
import { readRunningStack } from '../local/state.js';

const [name, flag] = process.argv.slice(2);
if (!name || !(name in queues) || (flag !== undefined && flag !== '--redrive')) {
  console.error(`Usage: npm run dlq -- <${Object.keys(queues).join('|')}> [--redrive]`);
  process.exit(2);
}
const stack = readRunningStack();
const endpoint = stack?.env.SQS_ENDPOINT;
const queueUrl = stack?.env[`${name.toUpperCase()}_QUEUE_URL`];
if (!endpoint || !queueUrl) {
  console.error('No local stack is running: start it with npm run dev.');
  process.exit(1);
}
const dlqUrl = `${queueUrl}-dlq`;
const sqs = new SQSClient({
  region: stack?.env.AWS_REGION ?? 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

let count = 0;
for (;;) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      // Look without taking: hidden for a moment so one run lists each message once.
      VisibilityTimeout: flag ? 30 : 2,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  if (Messages.length === 0) break;
  for (const message of Messages) {
    count++;
    const attributes = message.Attributes ?? {};
    console.log(
      JSON.stringify({
        messageId: message.MessageId,
        receiveCount: attributes.ApproximateReceiveCount,
        sent: attributes.SentTimestamp
          ? new Date(Number(attributes.SentTimestamp)).toISOString()
          : undefined,
        body: message.Body,
      }),
    );
    if (flag === '--redrive') {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.Body ?? '' }),
      );
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}
console.log(`${count} message(s) in ${name}-dlq${flag ? ', moved back to the queue' : ''}.`);
sqs.destroy();
