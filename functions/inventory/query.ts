import { createHandler } from '../../shared/http/handler.js';
import { queryInventory } from '../../shared/inventory/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.inventoryQuery, async ({ query }) => ({
  status: 200,
  body: await queryInventory(query),
}));
