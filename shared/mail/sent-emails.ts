/**
 * Exactly one e-mail per event under redelivery: the `sent_emails` table (migration
 * 1763800000009), keyed by the event id. Platform code: it knows events and e-mails, no domain.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { getSql } from '../db/client.js';
import { purgeOldest } from '../db/purge.js';
import { type Email, sendEmail } from './ses.js';

/**
 * How long a worker's claim on an event lasts, in seconds: above the e-mail worker's 30 s
 * timeout (so a live worker never loses its claim to a redelivery), below the queue's 180 s
 * visibility timeout (so a worker that died has left its claim to run out by the time SQS
 * delivers the message again).
 */
export const EMAIL_CLAIM_LEASE_SECONDS = 60;

/** Raised when another worker holds a live claim on the event: retry the message later. */
export class EmailInProgress extends Error {
  override name = 'EmailInProgress';
}

/**
 * Claims `eventId` for this worker in one short statement (committed at once): inserts its
 * row, or takes over an unsent row whose lease ran out (or was released after a failure),
 * counting an attempt. Returns `claimed`, or else `sent` (already sent: nothing to do) or
 * `busy` (another worker's lease holds). Concurrent claims of one event: exactly one wins.
 */
async function claim(eventId: string): Promise<'claimed' | 'sent' | 'busy'> {
  const sql = getSql();
  const claimed = await sql`
    INSERT INTO sent_emails (event_id, claimed_until)
    VALUES (${eventId}, now() + make_interval(secs => ${EMAIL_CLAIM_LEASE_SECONDS}))
    ON CONFLICT (event_id) DO UPDATE
      SET claimed_until = EXCLUDED.claimed_until, attempts = sent_emails.attempts + 1
      WHERE sent_emails.state = 'sending'
        AND (sent_emails.claimed_until IS NULL OR sent_emails.claimed_until <= now())
    RETURNING event_id`;
  if (claimed.length === 1) return 'claimed';
  const [row] = await sql<{ state: string }[]>`
    SELECT state FROM sent_emails WHERE event_id = ${eventId}`;
  return row?.state === 'sent' ? 'sent' : 'busy';
}

/**
 * Records that SES accepted the event's e-mail as `messageId`, ending the claim. Tried three
 * times within about a second, because every moment between SES's answer and this commit is
 * a moment a crash would cost a second e-mail (see `sendOnce`).
 */
async function markSent(eventId: string, messageId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await getSql()`
        UPDATE sent_emails
        SET state = 'sent', sent_at = now(), ses_message_id = ${messageId},
            claimed_until = NULL, last_error = NULL
        WHERE event_id = ${eventId}`;
      return;
    } catch (error) {
      if (attempt === 3) throw error;
      await sleep(attempt * 200);
    }
  }
}

/**
 * Releases a claim after SES refused or failed, with the error, so the next delivery may
 * claim the event at once. Best effort: if it fails too, the lease runs out by itself.
 */
async function release(eventId: string, error: unknown): Promise<void> {
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
  await getSql()`
    UPDATE sent_emails SET claimed_until = NULL, last_error = ${message}
    WHERE event_id = ${eventId} AND state = 'sending'`.catch(() => {});
}

/**
 * Sends `email` for event `eventId` at most once per successful delivery of the event:
 * claims the event (`claim`), calls SES with no transaction open and no row locked, then
 * marks it sent with SES's message id. Returns `{status: 'sent', messageId}`, or
 * `{status: 'duplicate'}` when the event's e-mail was sent before (a redelivery: nothing is
 * sent).
 *
 * The one window left (at least once, not exactly once): if the process dies, or the
 * database cannot be reached, after SES accepted the e-mail and before the mark commits,
 * the row stays unsent; its lease runs out (`EMAIL_CLAIM_LEASE_SECONDS`), SQS delivers the
 * message again after its visibility timeout, and the recipient gets a second copy. SES v2
 * `SendEmail` takes no idempotency token, so no client can close that window; this one keeps
 * it to a single short UPDATE (retried within a second) and does nothing else in between.
 * An SES timeout is ambiguous the same way (SES may have accepted the e-mail): it is treated
 * as a failure and retried.
 *
 * Errors: `EmailInProgress` when another worker holds the claim; SES errors (the claim is
 * released first, nothing is marked sent); database errors.
 */
export async function sendOnce(
  eventId: string,
  email: Email,
): Promise<{ status: 'sent'; messageId: string } | { status: 'duplicate' }> {
  const claimed = await claim(eventId);
  if (claimed === 'sent') return { status: 'duplicate' };
  if (claimed === 'busy') {
    throw new EmailInProgress(`event ${eventId}: another worker is sending its e-mail`);
  }
  let messageId: string;
  try {
    ({ messageId } = await sendEmail(email));
  } catch (error) {
    await release(eventId, error);
    throw error;
  }
  await markSent(eventId, messageId);
  return { status: 'sent', messageId };
}

/**
 * How long a sent event's row is kept, in days: longer than any redelivery can come. SQS
 * keeps a message at most 14 days from when it was first sent, in its queue or, after
 * `maxReceiveCount`, in the DLQ (a redrive keeps that first timestamp: AWS docs, "Amazon SQS
 * dead-letter queues"), plus a day's margin.
 */
export const SENT_EMAIL_RETENTION_DAYS = 15;

/**
 * Deletes at most `limit` rows of events sent more than `SENT_EMAIL_RETENTION_DAYS` ago,
 * oldest first (`sent_emails_sent_idx`; rows locked by another purge are skipped), and
 * returns how many. Unsent rows stay: their event may still be retried. For
 * `functions/workers/retention.ts`.
 */
export function purgeSentEmails(limit: number): Promise<number> {
  return purgeOldest(
    {
      table: 'sent_emails',
      endedAt: (sql) => sql`sent_at`,
      keepFor: { days: SENT_EMAIL_RETENTION_DAYS },
      only: (sql) => sql`state = 'sent'`,
    },
    limit,
  );
}
