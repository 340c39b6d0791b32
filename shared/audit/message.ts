/** The audit queue's message schema (the audit worker's input; no route documents it). */
import * as z from 'zod/mini';
import { Timestamp } from '../schemas.js';

/** An audit event as it travels on the audit queue (the outbox's `EventMessage`). */
export const AuditEventMessage = z.object({
  event_id: z.uuid(),
  type: z.string().check(z.minLength(1), z.maxLength(100)),
  occurred_at: Timestamp,
  payload: z.object({
    actor_id: z.nullable(z.uuid()),
    resource_type: z.string().check(z.minLength(1), z.maxLength(100)),
    resource_id: z.string().check(z.minLength(1), z.maxLength(200)),
    metadata: z._default(z.record(z.string(), z.unknown()), {}),
  }),
});
export type AuditEventMessage = z.output<typeof AuditEventMessage>;
