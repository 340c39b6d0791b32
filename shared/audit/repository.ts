import { getSql } from '../db/client.js';
import type { AuditEventMessage, AuditLogQuery } from './schemas.js';

export interface AuditRow {
  id: string; // bigint, as postgres.js returns int8
  event_id: string;
  action: string;
  actor_id: string | null;
  resource_type: string;
  resource_id: string;
  occurred_at: Date;
  recorded_at: Date;
  metadata: Record<string, unknown>;
}

/**
 * Records an event once: a second delivery of the same `event_id` changes nothing.
 * Returns true when this call inserted it.
 */
export async function recordEvent(event: AuditEventMessage): Promise<boolean> {
  const sql = getSql();
  const rows = await sql`
    INSERT INTO audit_log (event_id, action, actor_id, resource_type, resource_id, occurred_at, metadata)
    VALUES (${event.event_id}, ${event.type}, ${event.payload.actor_id}, ${event.payload.resource_type},
            ${event.payload.resource_id}, ${event.occurred_at}::text::timestamptz,
            ${sql.json(event.payload.metadata as never)})
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id`;
  return rows.length === 1;
}

/** Newest first, `limit + 1` rows, after (below) `beforeId`; filters are index-backed. */
export async function listEvents(
  query: AuditLogQuery,
  beforeId: string | null,
): Promise<AuditRow[]> {
  const sql = getSql();
  return sql<AuditRow[]>`
    SELECT id, event_id, action, actor_id, resource_type, resource_id, occurred_at, recorded_at, metadata
    FROM audit_log
    WHERE true
      ${query.action ? sql`AND action = ${query.action}` : sql``}
      ${query.actor_id ? sql`AND actor_id = ${query.actor_id}` : sql``}
      ${beforeId ? sql`AND id < ${beforeId}::bigint` : sql``}
    ORDER BY id DESC
    LIMIT ${query.limit + 1}`;
}
