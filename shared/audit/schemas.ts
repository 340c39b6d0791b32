import { z } from 'zod';

/** An audit event as it travels on the audit queue (the outbox's `EventMessage`). */
export const AuditEventMessage = z.object({
  event_id: z.uuid(),
  type: z.string().min(1).max(100),
  occurred_at: z.iso.datetime({ offset: true }),
  payload: z.object({
    actor_id: z.uuid().nullable(),
    resource_type: z.string().min(1).max(100),
    resource_id: z.string().min(1).max(200),
    metadata: z.record(z.string(), z.unknown()).default({}),
  }),
});
export type AuditEventMessage = z.output<typeof AuditEventMessage>;

export const AuditEntry = z
  .object({
    id: z.int(),
    event_id: z.uuid(),
    action: z.string(),
    actor_id: z.uuid().nullable(),
    resource_type: z.string(),
    resource_id: z.string(),
    occurred_at: z.iso.datetime(),
    recorded_at: z.iso.datetime(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.output<typeof AuditEntry>;

export const AuditLogQuery = z.object({
  action: z.string().min(1).max(100).optional(),
  actor_id: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional(),
});
export type AuditLogQuery = z.output<typeof AuditLogQuery>;

export const AuditLogPage = z
  .object({ items: z.array(AuditEntry), next_cursor: z.string().nullable() })
  .meta({ id: 'AuditLogPage' });
export type AuditLogPage = z.output<typeof AuditLogPage>;
