-- Up Migration
-- Background jobs (API.md § Background jobs). A job is its row: the routes record it and the
-- SQS worker (functions/workers/jobs.ts) runs it, one run at a time under a lease
-- (`lease_owner` until `lease_expires_at`), saving its place in `checkpoint` so a run that
-- would outlast its invocation continues in a new message. `not_before` holds a retry back
-- until its backoff has passed; `cancel_requested` stops a running job at its next checkpoint.
CREATE TABLE jobs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type             text NOT NULL CHECK (type IN ('notes.export', 'inventory.import')),
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  params           jsonb NOT NULL,
  progress         double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     integer NOT NULL CHECK (max_attempts >= 1),
  result           jsonb,
  error            jsonb,
  checkpoint       jsonb,
  cancel_requested boolean NOT NULL DEFAULT false,
  lease_owner      uuid,
  lease_expires_at timestamptz,
  not_before       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
-- The owner's list, newest first, keyset on (created_at, id).
CREATE INDEX jobs_owner_created_idx ON jobs (owner_id, created_at DESC, id DESC);

-- Files an admin PUTs with a presigned URL (`POST /api/v1/uploads`) for an import. The object
-- lives under `object_key` (`uploads/<id>/<random>`) until the bucket's lifecycle deletes it.
CREATE TABLE uploads (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  object_key   text NOT NULL UNIQUE,
  filename     text NOT NULL,
  content_type text NOT NULL,
  size         bigint NOT NULL CHECK (size > 0),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_owner_idx ON uploads (owner_id);
-- Retention (functions/workers/retention.ts) deletes the oldest first.
CREATE INDEX uploads_created_idx ON uploads (created_at);

-- The rows of running imports, COPYed here chunk by chunk and moved into inventory_records by
-- one INSERT … SELECT when the whole file is valid (all rows or none). UNLOGGED: a scratch
-- area (no WAL; emptied by a crash, which the import notices and restarts from its first row).
CREATE UNLOGGED TABLE inventory_import_rows (
  job_id      uuid NOT NULL,
  line        integer NOT NULL,
  productid   text NOT NULL,
  quantity    integer NOT NULL,
  "timestamp" timestamptz NOT NULL
);

-- Down Migration
DROP TABLE inventory_import_rows;
DROP TABLE uploads;
DROP TABLE jobs;
