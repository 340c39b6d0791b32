-- Up Migration
-- Transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE outbox (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(), -- the event id
  queue           text NOT NULL,
  type            text NOT NULL,
  payload         jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  published_at    timestamptz,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text
);
-- What the relay scans: unsent rows that are due, oldest first.
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, created_at) WHERE published_at IS NULL;

-- One row per event, however often SQS delivers it (unique event_id).
CREATE TABLE audit_log (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id      uuid NOT NULL UNIQUE,
  action        text NOT NULL CHECK (char_length(action) BETWEEN 1 AND 100),
  actor_id      uuid,
  resource_type text NOT NULL CHECK (char_length(resource_type) BETWEEN 1 AND 100),
  resource_id   text NOT NULL CHECK (char_length(resource_id) BETWEEN 1 AND 200),
  occurred_at   timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  metadata      jsonb NOT NULL DEFAULT '{}'
);
-- Newest-first keyset pages, optionally filtered by action or actor.
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);

-- Down Migration
DROP TABLE audit_log;
DROP TABLE outbox;
