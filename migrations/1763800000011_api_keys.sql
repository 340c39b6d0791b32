-- Up Migration
-- API keys (API.md § API keys): `sk_<stage>_<prefix><secret>`, shown once, stored only as the
-- SHA-256 hash of the whole key (a fast hash suits a secret of 256 random bits; see
-- docs/security.md). `prefix` (`sk_<stage>_<10 base62>`) is public: shown in lists, and the
-- lookup of a presented key. Live = not revoked and not expired.
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL,
  prefix       text NOT NULL UNIQUE,
  key_hash     bytea NOT NULL,
  scopes       text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz
);
-- The owner's live keys (the list, the 20-key limit).
CREATE INDEX api_keys_owner_live_idx ON api_keys (user_id, created_at) WHERE revoked_at IS NULL;

-- Down Migration
DROP TABLE api_keys;
