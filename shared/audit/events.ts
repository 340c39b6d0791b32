import type { TransactionSql } from '../db/client.js';
import { addToOutbox } from '../queue/outbox.js';

/** One audit event as a write announces it (the audit queue's `payload`, `./message.ts`). */
export interface AuditEvent {
  /** `<resource>.<verb>`, e.g. `product.created` (API.md § Orders lists the actions). */
  action: string;
  /** The user who made the change; null for the system. */
  actorId: string | null;
  resourceType: string;
  resourceId: string;
  metadata?: Record<string, unknown>;
}

/**
 * Adds `event` to the outbox for the audit queue inside the write's transaction `tx`, so it
 * is recorded if and only if the change commits (DESIGN.md § Background path). Returns the
 * event id, to pass to `publishNow` after commit.
 */
export function addAuditEvent(tx: TransactionSql, event: AuditEvent): Promise<string> {
  return addToOutbox(tx, {
    queue: 'audit',
    type: event.action,
    payload: {
      actor_id: event.actorId,
      resource_type: event.resourceType,
      resource_id: event.resourceId,
      metadata: event.metadata ?? {},
    },
  });
}
