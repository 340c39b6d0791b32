-- Up Migration
-- Refresh tokens (RFC 9700 §4.14): opaque, stored as SHA-256 hashes, single use, rotated on
-- every refresh; a login starts a family, and reuse of a used token revokes the family.
CREATE TABLE refresh_tokens (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  family_id         uuid NOT NULL,
  user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash        bytea NOT NULL UNIQUE,
  created_at        timestamptz NOT NULL DEFAULT now(),
  family_expires_at timestamptz NOT NULL,
  used_at           timestamptz,
  revoked_at        timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Down Migration
DROP TABLE refresh_tokens;
