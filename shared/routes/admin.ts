/** Routes for admins (the audit log); gathered by `./index.ts`. */
import { AuditLogPage, AuditLogQuery } from '../audit/schemas.js';
import { defineRoute, type RouteDefinition } from '../http/route.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';

export const adminRoutes = {
  auditLog: defineRoute({
    method: 'GET',
    path: '/api/v1/admin/audit-log',
    function: 'admin/audit-log',
    errors: [400],
    auth: 'admin',
    database: true,
    rateLimit: limits.default,
    summary: 'The audit log, newest first (admins)',
    description:
      'Each event is recorded exactly once however often SQS delivers it. Filters: `action`, ' +
      '`actor_id`; keyset pagination with `cursor` (bound to the filters).',
    tag: 'admin',
    request: { query: AuditLogQuery },
    responses: { 200: AuditLogPage },
  }),
} satisfies Record<string, RouteDefinition>;
