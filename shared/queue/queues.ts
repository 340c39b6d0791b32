import type { FileAccess } from '../files/prefixes.js';

/**
 * The queues, declared once: CDK creates them (with their DLQs and event source mappings)
 * and the local cloud creates the same ones in fauxqs and polls them the same way.
 */
export interface QueueDefinition {
  /** Logical name; the deployed queue is `<stage>-<name>`, its DLQ `<stage>-<name>-dlq`. */
  name: string;
  /** The worker's handler file under `functions/` (`workers/audit`). */
  worker: string;
  /** Worker Lambda timeout, in seconds. */
  workerTimeoutSeconds: number;
  /**
   * At least 6 × the worker timeout (AWS docs, "Configuring a queue to use with Lambda"), so
   * a message is not redelivered while a retried invocation still holds it.
   */
  visibilityTimeoutSeconds: number;
  /** Records per worker invocation. */
  batchSize: number;
  /** How long the event source mapping may wait to fill a batch, in seconds. */
  maxBatchingWindowSeconds: number;
  /** Deliveries before SQS moves a message to the DLQ. */
  maxReceiveCount: number;
  /** How long the DLQ keeps messages, in seconds (14 days, the SQS maximum). */
  dlqRetentionSeconds: number;
  /**
   * The worker sends e-mail: CDK grants it `ses:SendEmail` on the stage's SES identity (and
   * nothing else of SES) and sets its sender, `MAIL_FROM`.
   */
  sendsEmail?: true;
  /** What the worker does with the files bucket, per prefix (CDK grants exactly these). */
  files?: FileAccess[];
  /**
   * The worker sends to its own queue (continuations, delayed retries) and, after a job's
   * last attempt, its message to the DLQ: CDK grants `sqs:SendMessage` on both and sets
   * `<NAME>_QUEUE_URL` and `<NAME>_DLQ_URL`.
   */
  requeues?: true;
}

export const queues = {
  audit: {
    name: 'audit',
    worker: 'workers/audit',
    workerTimeoutSeconds: 30,
    visibilityTimeoutSeconds: 180,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 5,
    dlqRetentionSeconds: 1_209_600,
  },
  /**
   * Order e-mails (functions/workers/email.ts): `order.created` and `order.status_changed`
   * events, sent through SES once per event (`sent_emails`).
   */
  email: {
    name: 'email',
    worker: 'workers/email',
    workerTimeoutSeconds: 30,
    visibilityTimeoutSeconds: 180,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 5,
    dlqRetentionSeconds: 1_209_600,
    sendsEmail: true,
  },
  /**
   * Background jobs (functions/workers/jobs.ts, API.md § Background jobs): one message per
   * run of a job (`{job_id}`), sent by the submit and retry routes through the outbox and by
   * the worker itself for a continuation or a delayed retry. One job per invocation: a job
   * may use the whole 15-minute Lambda timeout (continuing in a new message before it ends).
   */
  jobs: {
    name: 'jobs',
    worker: 'workers/jobs',
    workerTimeoutSeconds: 900,
    visibilityTimeoutSeconds: 5400,
    batchSize: 1,
    maxBatchingWindowSeconds: 0,
    maxReceiveCount: 5,
    dlqRetentionSeconds: 1_209_600,
    files: [
      { prefix: 'exports', access: 'write' },
      { prefix: 'exports', access: 'read' },
      { prefix: 'uploads', access: 'read' },
    ],
    requeues: true,
  },
} satisfies Record<string, QueueDefinition>;

export type QueueName = keyof typeof queues;

export const queueList: QueueDefinition[] = Object.values(queues);

/** The relay that publishes unsent outbox rows: its handler and schedule. */
export const outboxRelay = {
  function: 'workers/outbox-relay',
  /** EventBridge schedule in AWS. */
  scheduleMinutes: 1,
  /** Interval of the local cloud's timer. */
  localIntervalSeconds: 3,
  /** Rows per batch (an SQS SendMessageBatch holds at most 10). */
  batchSize: 10,
  /**
   * How long a publisher's claim on a row lasts, in seconds: well above the longest SQS call
   * (2.5 s connect + request timeouts, shared/queue/sqs.ts) plus recording the outcome, so a
   * live publisher never loses its rows to another; a crashed one delays them this long.
   */
  leaseSeconds: 30,
} as const;

/**
 * The scheduled purge of rows kept only for a while (functions/workers/retention.ts):
 * published outbox rows and ended refresh tokens. Each table's period is beside its rules.
 */
export const retention = {
  function: 'workers/retention',
  /** EventBridge schedule in AWS: hourly keeps each run's backlog small. */
  scheduleMinutes: 60,
  /** Interval of the local cloud's timer (a dev database grows slowly). */
  localIntervalSeconds: 300,
  /**
   * Rows per DELETE: each batch is its own short statement, so locks, WAL and replication
   * lag stay small, and a run stops cleanly at its time budget.
   */
  batchSize: 1000,
} as const;
