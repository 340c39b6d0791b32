-- Up Migration
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE notes (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title       text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  content     text NOT NULL DEFAULT '' CHECK (char_length(content) <= 20000),
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);

-- Keyset pagination: one b-tree per sort, ending in id (the tie-breaker), scanned either way.
CREATE INDEX notes_owner_created_idx ON notes (owner_id, created_at, id);
CREATE INDEX notes_owner_updated_idx ON notes (owner_id, updated_at, id);
CREATE INDEX notes_owner_title_idx ON notes (owner_id, title, id);
-- Case-insensitive substring search (q): ILIKE '%…%' uses trigram GIN indexes.
CREATE INDEX notes_title_trgm_idx ON notes USING gin (title gin_trgm_ops);
CREATE INDEX notes_content_trgm_idx ON notes USING gin (content gin_trgm_ops);

-- Down Migration
DROP TABLE notes;
