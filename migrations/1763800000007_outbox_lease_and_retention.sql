-- Up Migration
-- A publisher claims a row by setting a lease, commits, calls SQS outside any transaction,
-- then marks the row published. No row lock is held during the call; a publisher that dies
-- in between leaves the lease to run out and the row is sent again (at least once).
ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;

-- Retention (functions/workers/retention.ts) deletes in small batches, oldest first; these
-- indexes make each batch an index range scan instead of a scan of the whole table.
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
-- When a refresh token stops being of any use: its family expired or was revoked.
CREATE INDEX refresh_tokens_ended_idx ON refresh_tokens ((LEAST(family_expires_at, revoked_at)));

-- Down Migration
DROP INDEX refresh_tokens_ended_idx;
DROP INDEX outbox_published_idx;
ALTER TABLE outbox DROP COLUMN claimed_until;
