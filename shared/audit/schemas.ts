import * as z from 'zod/mini';
import { queryInteger, UtcTimestamp } from '../schemas.js';

// The queue message (`AuditEventMessage`) is in `./message.ts`, in zod/mini for the worker.
export type { AuditEventMessage } from './message.js';

const AUDIT_ENTRY_EXAMPLE = {
  id: 311,
  event_id: '9b2f4c1a-7e3d-4b8a-a5c6-1d2e3f4a5b6c',
  action: 'note.archived',
  actor_id: '0b7e3c52-5d1f-4a8e-b6c2-9f4d2a1e7c30',
  resource_type: 'note',
  resource_id: '6f1c2b9e-8d4a-4f3e-9a51-2c7d0b8e4a10',
  occurred_at: '2024-01-01T10:05:00.000Z',
  recorded_at: '2024-01-01T10:05:00.412Z',
  metadata: {},
};

export const AuditEntry = z
  .object({
    id: z.int().check(z.gte(1)),
    event_id: z.uuid(),
    action: z.string(),
    actor_id: z.nullable(z.uuid()),
    resource_type: z.string(),
    resource_id: z.string(),
    occurred_at: UtcTimestamp,
    recorded_at: UtcTimestamp,
    metadata: z.record(z.string(), z.unknown()),
  })
  .register(z.globalRegistry, { id: 'AuditEntry', example: AUDIT_ENTRY_EXAMPLE });
export type AuditEntry = z.output<typeof AuditEntry>;

export const AuditLogQuery = z.object({
  action: z
    .optional(z.string().check(z.minLength(1), z.maxLength(100)))
    .register(z.globalRegistry, { example: 'note.archived' }),
  actor_id: z
    .optional(z.uuid())
    .register(z.globalRegistry, { example: '0b7e3c52-5d1f-4a8e-b6c2-9f4d2a1e7c30' }),
  limit: queryInteger(1, 100, 50).register(z.globalRegistry, { example: 50 }),
  cursor: z.optional(z.string().check(z.maxLength(512))),
});
export type AuditLogQuery = z.output<typeof AuditLogQuery>;

export const AuditLogPage = z
  .object({ items: z.array(AuditEntry), next_cursor: z.nullable(z.string()) })
  .register(z.globalRegistry, {
    id: 'AuditLogPage',
    example: { items: [AUDIT_ENTRY_EXAMPLE], next_cursor: null },
  });
export type AuditLogPage = z.output<typeof AuditLogPage>;
