/**
 * The audit queue's message, in zod/mini like every schema of `shared/`: the audit worker parses
 * it, and its bundle has a 150 KiB budget (classic zod costs ~90 KiB of a bundle, zod/mini ~24
 * KiB). No route documents it, so it registers no metadata.
 */
import * as z from 'zod/mini';
import {
  TIMESTAMP_MAX_LENGTH,
  TIMESTAMP_PATTERN,
  TIMESTAMP_PATTERN_MESSAGE,
  utcTimestampTransform,
} from '../timestamp.js';

/** The `Timestamp` rule of `shared/schemas.ts` (RFC 3339 in, UTC text out), in zod/mini. */
const Timestamp = z.pipe(
  z
    .string()
    .check(
      z.maxLength(TIMESTAMP_MAX_LENGTH),
      z.regex(TIMESTAMP_PATTERN, TIMESTAMP_PATTERN_MESSAGE),
    ),
  z.transform(utcTimestampTransform),
);

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
