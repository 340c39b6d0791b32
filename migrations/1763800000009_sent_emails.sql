-- Up Migration
-- One e-mail per event, however often SQS delivers it (shared/mail/sent-emails.ts). A worker
-- claims the event's row with a lease (`claimed_until`) in one short statement, calls SES
-- with no transaction open, then marks the row sent with SES's message id. A redelivery of
-- a sent event finds `state = 'sent'` and sends nothing; one that arrives while another
-- worker's lease holds fails and is retried later; a worker that died leaves the lease to
-- run out. The row holds no address or content, only the event's delivery state.
CREATE TABLE sent_emails (
  event_id       uuid PRIMARY KEY,
  state          text NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'sent')),
  claimed_until  timestamptz,
  attempts       integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
  last_error     text CHECK (char_length(last_error) <= 500),
  ses_message_id text CHECK (char_length(ses_message_id) BETWEEN 1 AND 200),
  created_at     timestamptz NOT NULL DEFAULT now(),
  sent_at        timestamptz,
  -- Sent means: SES accepted it, when, under which message id.
  CHECK ((state = 'sent') = (sent_at IS NOT NULL AND ses_message_id IS NOT NULL))
);
-- The retention purge of sent rows past their period, oldest first.
CREATE INDEX sent_emails_sent_idx ON sent_emails (sent_at) WHERE state = 'sent';

-- Down Migration
DROP TABLE sent_emails;
