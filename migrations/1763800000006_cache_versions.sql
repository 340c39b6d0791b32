-- Up Migration
-- The version that names a scope's cache entries (Redis keys `{<scope>}:v<version>:<hash>`).
-- It lives here, not in Redis, and is bumped in the same transaction as the write, so a
-- write that committed always moves readers to a new key, even if Redis was unreachable
-- while it ran. A missing row is version 0. Scopes: `notes:<owner id>`. Rows are never
-- deleted: a scope starting over at 1 could name an entry cached before (one row per scope,
-- so this grows with the users, not with the writes).
CREATE TABLE cache_versions (
  scope   text PRIMARY KEY,
  version bigint NOT NULL CHECK (version >= 1)
);

-- One bump per owner per statement, whatever the number of rows (bulk loads included), by
-- statement-level triggers with transition tables. Every write path to notes takes part,
-- including ones added later or run by hand. Owners in a fixed order, so two statements
-- touching the same owners cannot deadlock on their rows.
CREATE FUNCTION notes_bump_cache_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO cache_versions (scope, version)
    SELECT DISTINCT 'notes:' || owner_id, 1 FROM new_notes ORDER BY 1
    ON CONFLICT (scope) DO UPDATE SET version = cache_versions.version + 1;
  ELSIF TG_OP = 'UPDATE' THEN
    -- Old and new owner, should a write ever move a note.
    INSERT INTO cache_versions (scope, version)
    SELECT 'notes:' || owner_id, 1
    FROM (SELECT owner_id FROM new_notes UNION SELECT owner_id FROM old_notes) AS owners
    ORDER BY 1
    ON CONFLICT (scope) DO UPDATE SET version = cache_versions.version + 1;
  ELSE
    INSERT INTO cache_versions (scope, version)
    SELECT DISTINCT 'notes:' || owner_id, 1 FROM old_notes ORDER BY 1
    ON CONFLICT (scope) DO UPDATE SET version = cache_versions.version + 1;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER notes_cache_version_insert AFTER INSERT ON notes
  REFERENCING NEW TABLE AS new_notes
  FOR EACH STATEMENT EXECUTE FUNCTION notes_bump_cache_version();
CREATE TRIGGER notes_cache_version_update AFTER UPDATE ON notes
  REFERENCING OLD TABLE AS old_notes NEW TABLE AS new_notes
  FOR EACH STATEMENT EXECUTE FUNCTION notes_bump_cache_version();
CREATE TRIGGER notes_cache_version_delete AFTER DELETE ON notes
  REFERENCING OLD TABLE AS old_notes
  FOR EACH STATEMENT EXECUTE FUNCTION notes_bump_cache_version();

-- Down Migration
DROP TRIGGER notes_cache_version_delete ON notes;
DROP TRIGGER notes_cache_version_update ON notes;
DROP TRIGGER notes_cache_version_insert ON notes;
DROP FUNCTION notes_bump_cache_version();
DROP TABLE cache_versions;
