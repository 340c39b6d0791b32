import { listAuditLog } from '../../shared/audit/service.js';
import { createHandler } from '../../shared/http/handler.js';
import { adminRoutes } from '../../shared/routes/admin.js';

export const handler = createHandler(adminRoutes.auditLog, async ({ query }) => ({
  status: 200,
  body: await listAuditLog(query),
}));
