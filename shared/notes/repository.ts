import { getSql, type Queryable } from '../db/client.js';
import { likePattern } from '../db/like-pattern.js';
import type { KeysetPosition } from './cursor.js';
import type { ListNotesQuery } from './schemas.js';

export interface NoteRow {
  id: string;
  owner_id: string;
  title: string;
  content: string;
  version: number;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

/** `If-Match` as the service sees it: null = no precondition, else the accepted versions. */
export type ExpectedVersions = number[] | null;

const COLUMNS = 'id, owner_id, title, content, version, created_at, updated_at, archived_at';

/** Inserts a note owned by `ownerId`. */
export async function insertNote(
  ownerId: string,
  note: { title: string; content: string },
  sql: Queryable = getSql(),
): Promise<NoteRow> {
  const [row] = await sql<NoteRow[]>`
    INSERT INTO notes (owner_id, title, content)
    VALUES (${ownerId}, ${note.title}, ${note.content})
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row as NoteRow;
}

/** The owner's note with this id, archived or not; null when absent or someone else's. */
export async function findNote(
  ownerId: string,
  id: string,
  sql: Queryable = getSql(),
): Promise<NoteRow | null> {
  const [row] = await sql<NoteRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM notes WHERE id = ${id} AND owner_id = ${ownerId}`;
  return row ?? null;
}

/**
 * Updates an active note in one statement when its version is one of `expected` (or always
 * when `expected` is null): sets the given fields, bumps `version` and `updated_at`.
 * Returns null when nothing matched; the caller finds out why.
 */
export async function updateActiveNote(
  ownerId: string,
  id: string,
  changes: { title?: string | undefined; content?: string | undefined },
  expected: ExpectedVersions,
  sql: Queryable = getSql(),
): Promise<NoteRow | null> {
  const [row] = await sql<NoteRow[]>`
    UPDATE notes SET
      title = COALESCE(${changes.title ?? null}::text, title),
      content = COALESCE(${changes.content ?? null}::text, content),
      version = version + 1,
      updated_at = now()
    WHERE id = ${id} AND owner_id = ${ownerId} AND archived_at IS NULL
      ${expected ? sql`AND version = ANY(${expected}::int[])` : sql``}
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row ?? null;
}

/** Archives an active note (soft delete); null when it is absent or already archived. */
export async function archiveNote(
  ownerId: string,
  id: string,
  sql: Queryable = getSql(),
): Promise<NoteRow | null> {
  const [row] = await sql<NoteRow[]>`
    UPDATE notes SET archived_at = now(), version = version + 1, updated_at = now()
    WHERE id = ${id} AND owner_id = ${ownerId} AND archived_at IS NULL
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row ?? null;
}

/** Restores an archived note; null when it is absent or not archived. */
export async function restoreNote(
  ownerId: string,
  id: string,
  sql: Queryable = getSql(),
): Promise<NoteRow | null> {
  const [row] = await sql<NoteRow[]>`
    UPDATE notes SET archived_at = NULL, version = version + 1, updated_at = now()
    WHERE id = ${id} AND owner_id = ${ownerId} AND archived_at IS NOT NULL
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row ?? null;
}

/**
 * One keyset page of the owner's notes, `limit + 1` rows so the caller can tell whether
 * another page follows. Each row carries `sort_key`, its sort value as text (timestamps with
 * microseconds, so cursors lose no precision). Index-backed: `(owner_id, <sort>, id)`
 * b-trees for the order and the keyset predicate, trigram GIN indexes for `q`.
 */
export async function listNotes(
  ownerId: string,
  query: ListNotesQuery,
  after: KeysetPosition | null,
  sql: Queryable = getSql(),
): Promise<(NoteRow & { sort_key: string })[]> {
  const column = sql(query.sort);
  const sortKey =
    query.sort === 'title'
      ? sql`title`
      : sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  const direction = query.order === 'asc' ? sql`ASC` : sql`DESC`;
  const archived =
    query.archived === 'all'
      ? sql``
      : query.archived === 'true'
        ? sql`AND archived_at IS NOT NULL`
        : sql`AND archived_at IS NULL`;
  const search = query.q
    ? sql`AND (title ILIKE ${likePattern(query.q)} OR content ILIKE ${likePattern(query.q)})`
    : sql``;
  // `::text` first: a parameter the server types as timestamptz is serialised by postgres.js
  // through a JS Date, which would drop the microseconds the cursor keeps (and so repeat or
  // skip rows next to the page boundary).
  const afterValue =
    query.sort === 'title'
      ? sql`${after?.value ?? ''}::text`
      : sql`${after?.value ?? ''}::text::timestamptz`;
  const keyset = after
    ? query.order === 'asc'
      ? sql`AND (${column}, id) > (${afterValue}, ${after.id}::uuid)`
      : sql`AND (${column}, id) < (${afterValue}, ${after.id}::uuid)`
    : sql``;
  return sql<(NoteRow & { sort_key: string })[]>`
    SELECT ${sql.unsafe(COLUMNS)}, ${sortKey} AS sort_key
    FROM notes
    WHERE owner_id = ${ownerId} ${archived} ${search} ${keyset}
    ORDER BY ${column} ${direction}, id ${direction}
    LIMIT ${query.limit + 1}`;
}
