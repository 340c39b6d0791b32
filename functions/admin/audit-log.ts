import { listAuditLog } from '../../shared/audit/service.js';
import { createHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.auditLog, async ({ query }) => ({
  status: 200,
  body: await listAuditLog(query),
}));
