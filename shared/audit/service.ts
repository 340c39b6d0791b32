import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { BadRequest } from '../errors.js';
import * as repository from './repository.js';
import type { AuditEntry, AuditEventMessage, AuditLogPage, AuditLogQuery } from './schemas.js';

export { recordEvent } from './repository.js';
export type { AuditEventMessage };

function toEntry(row: repository.AuditRow): AuditEntry {
  return {
    id: Number(row.id),
    event_id: row.event_id,
    action: row.action,
    actor_id: row.actor_id,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    occurred_at: row.occurred_at.toISOString(),
    recorded_at: row.recorded_at.toISOString(),
    metadata: row.metadata,
  };
}

/** Largest `bigint` (PostgreSQL's `bigserial` ids). */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** The audit-log cursor: the filters' fingerprint and the last id (a positive bigint). */
const Cursor = z.strictObject({
  f: z.string().check(z.length(16)),
  id: z.string().check(
    z.regex(/^[1-9]\d{0,18}$/),
    z.refine((id) => BigInt(id) <= MAX_BIGINT),
  ),
});

function fingerprint(query: AuditLogQuery): string {
  return createHash('sha256')
    .update(JSON.stringify([query.action ?? null, query.actor_id ?? null]))
    .digest('base64url')
    .slice(0, 16);
}

/**
 * The audit log, newest first, keyset-paginated by id; filters `action` and `actor_id`.
 * Errors: `BadRequest` for a malformed cursor or one made for other filters.
 */
export async function listAuditLog(query: AuditLogQuery): Promise<AuditLogPage> {
  let beforeId: string | null = null;
  if (query.cursor) {
    let cursor: z.output<typeof Cursor>;
    try {
      cursor = Cursor.parse(JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')));
    } catch {
      throw new BadRequest('The cursor is malformed. Use next_cursor from a previous page.');
    }
    if (cursor.f !== fingerprint(query))
      throw new BadRequest('The cursor belongs to other filters.');
    beforeId = cursor.id;
  }
  const rows = await repository.listEvents(query, beforeId);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(toEntry),
    next_cursor:
      rows.length > query.limit && last
        ? Buffer.from(JSON.stringify({ f: fingerprint(query), id: String(last.id) })).toString(
            'base64url',
          )
        : null,
  };
}
