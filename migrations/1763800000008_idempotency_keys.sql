-- Up Migration
-- Idempotency keys (draft-ietf-httpapi-idempotency-key-header; API.md § Idempotency keys):
-- one record per caller (scope), route and key, written in the same transaction as the write
-- it guards, holding the response to replay. `fingerprint` (SHA-256 hex of the method, path
-- and canonical body) tells a retry from a different request that reuses the key.
CREATE TABLE idempotency_keys (
  scope            text NOT NULL CHECK (char_length(scope) BETWEEN 1 AND 200),
  route            text NOT NULL CHECK (char_length(route) BETWEEN 1 AND 300),
  key              text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  fingerprint      text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
  response_status  smallint NOT NULL CHECK (response_status BETWEEN 100 AND 599),
  response_headers jsonb NOT NULL DEFAULT '{}',
  response_body    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, route, key)
);
-- Retention (functions/workers/retention.ts) deletes records older than 24 hours, oldest
-- first, in small batches: an index range scan.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Down Migration
DROP TABLE idempotency_keys;
