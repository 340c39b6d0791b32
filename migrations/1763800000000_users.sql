-- Up Migration
CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL CHECK (char_length(email) <= 254 AND email = lower(email)),
  name          text CHECK (name IS NULL OR char_length(name) BETWEEN 1 AND 100),
  password_hash text NOT NULL,
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness; it also decides concurrent sign-ups with the same e-mail.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Down Migration
DROP TABLE users;
