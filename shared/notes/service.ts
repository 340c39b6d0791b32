import { type CacheStatus, cacheAside, readCacheVersion } from '../cache/cache-aside.js';
import { getConfig } from '../config.js';
import { isForeignKeyViolation, withTransaction } from '../db/client.js';
import { Conflict, NotFound, PreconditionFailed } from '../errors.js';
import { addToOutbox, publishNow } from '../queue/outbox.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ExpectedVersions, NoteRow } from './repository.js';
import * as repository from './repository.js';
import type { ListNotesQuery, Note, NotePage } from './schemas.js';

export type { ExpectedVersions };

/** A note row as the API shows it (RFC 3339 UTC timestamps). */
export function toNote(row: NoteRow): Note {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    archived: row.archived_at !== null,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    archived_at: row.archived_at?.toISOString() ?? null,
  };
}

const NOT_FOUND = 'No note with this id.';

/**
 * Cache scope of one owner's note lists. Its version is bumped by the notes table's
 * triggers (`'notes:' || owner_id`, migration 1763800000006) in the transaction of every
 * write, so no write path can forget it; the id in the canonical lower-case form PostgreSQL
 * prints.
 */
const cacheScope = (ownerId: string) => `notes:${ownerId.toLowerCase()}`;

/**
 * Creates a note for `ownerId`. Like every note write, it moves the owner's list cache to a
 * new version in its own statement (a trigger), so later list reads never see the old list.
 */
export async function createNote(
  ownerId: string,
  input: { title: string; content: string },
): Promise<Note> {
  try {
    return toNote(await repository.insertNote(ownerId, input));
  } catch (error) {
    // A still-valid access token of an account deleted since: as GET /users/me answers.
    if (isForeignKeyViolation(error)) throw new NotFound('The account no longer exists.');
    throw error;
  }
}

/** The owner's note, archived or not. Errors: `NotFound` (also for another user's note). */
export async function getNote(ownerId: string, id: string): Promise<Note> {
  const row = await repository.findNote(ownerId, id);
  if (!row) throw new NotFound(NOT_FOUND);
  return toNote(row);
}

/**
 * Replaces (PUT: both fields) or patches (PATCH: given fields) an active note, optionally
 * only when its version is in `expected` (`If-Match`). One conditional UPDATE, so of many
 * concurrent writers holding the same version exactly one succeeds.
 * Errors: `NotFound`; `PreconditionFailed` (412) when the version is stale; `Conflict` (409)
 * when the note is archived.
 */
export async function updateNote(
  ownerId: string,
  id: string,
  changes: { title?: string | undefined; content?: string | undefined },
  expected: ExpectedVersions,
): Promise<Note> {
  const row = await repository.updateActiveNote(ownerId, id, changes, expected);
  if (row) return toNote(row);
  const current = await repository.findNote(ownerId, id);
  if (!current) throw new NotFound(NOT_FOUND);
  if (expected && !expected.includes(current.version)) throw new PreconditionFailed();
  if (current.archived_at) throw new Conflict('The note is archived. Restore it before editing.');
  // Changed between the UPDATE and the SELECT by a concurrent writer.
  throw new PreconditionFailed();
}

/**
 * Archives or restores a note and, in the same transaction, adds its audit event to the
 * outbox (`note.archived` / `note.restored`); after commit it publishes the event (best
 * effort; the relay retries). Returns the changed row,
 * or null when the note was already in that state (then nothing is emitted).
 */
async function setArchived(
  ownerId: string,
  id: string,
  archived: boolean,
): Promise<NoteRow | null> {
  const result = await withTransaction(async (tx) => {
    const row = archived
      ? await repository.archiveNote(ownerId, id, tx)
      : await repository.restoreNote(ownerId, id, tx);
    if (!row) return null;
    const eventId = await addToOutbox(tx, {
      queue: 'audit',
      type: archived ? 'note.archived' : 'note.restored',
      payload: {
        actor_id: ownerId,
        resource_type: 'note',
        resource_id: row.id,
        metadata: { version: row.version },
      },
    });
    return { row, eventId };
  });
  if (!result) return null;
  await publishNow([result.eventId]);
  return result.row;
}

/**
 * Archives (soft-deletes) a note and emits `note.archived`. Idempotent: an archived note
 * stays as it is and nothing is emitted. Errors: `NotFound`.
 */
export async function archiveNote(ownerId: string, id: string): Promise<{ changed: boolean }> {
  if (await setArchived(ownerId, id, true)) return { changed: true };
  if (!(await repository.findNote(ownerId, id))) throw new NotFound(NOT_FOUND);
  return { changed: false };
}

/**
 * Restores an archived note and emits `note.restored`; restoring an active note returns it
 * unchanged and emits nothing. Errors: `NotFound`.
 */
export async function restoreNote(ownerId: string, id: string): Promise<Note> {
  const restored = await setArchived(ownerId, id, false);
  if (restored) return toNote(restored);
  const current = await repository.findNote(ownerId, id);
  if (!current) throw new NotFound(NOT_FOUND);
  return toNote(current);
}

/**
 * One page of the owner's notes, keyset-paginated (stable under ties: `id` breaks them),
 * served cache-aside from Redis per owner and normalised query (TTL
 * `NOTES_CACHE_TTL_SECONDS`), under the owner's list version read from PostgreSQL first;
 * `cache` says whether it was a hit, a miss or bypassed Redis.
 * Errors: `BadRequest` for a malformed cursor or one from other filters.
 */
export async function listNotes(
  ownerId: string,
  query: ListNotesQuery,
): Promise<{ page: NotePage; cache: CacheStatus }> {
  const after = query.cursor ? decodeCursor(query, query.cursor) : null;
  const variant = JSON.stringify([
    query.limit,
    query.cursor ?? null,
    query.archived,
    query.q ?? null,
    query.sort,
    query.order,
  ]);
  const scope = cacheScope(ownerId);
  const { value, cache } = await cacheAside({
    scope,
    variant,
    ttlSeconds: getConfig().NOTES_CACHE_TTL_SECONDS,
    version: () => readCacheVersion(scope),
    load: () => readPage(ownerId, query, after),
  });
  return { page: value, cache };
}

async function readPage(
  ownerId: string,
  query: ListNotesQuery,
  after: ReturnType<typeof decodeCursor> | null,
): Promise<NotePage> {
  const rows = await repository.listNotes(ownerId, query, after);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const hasMore = rows.length > query.limit;
  return {
    items: page.map(toNote),
    limit: query.limit,
    next_cursor:
      hasMore && last ? encodeCursor(query, { value: last.sort_key, id: last.id }) : null,
  };
}
