import { createHandler } from '../../shared/http/handler.js';
import { queryInventory } from '../../shared/inventory/service.js';
import { inventoryRoutes } from '../../shared/routes/inventory.js';

export const handler = createHandler(inventoryRoutes.inventoryQuery, async ({ query }) => ({
  status: 200,
  body: await queryInventory(query),
}));
