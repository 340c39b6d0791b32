import { createHandler } from '../../shared/http/handler.js';
import { updateInventory } from '../../shared/inventory/service.js';
import { inventoryRoutes } from '../../shared/routes/inventory.js';

export const handler = createHandler(inventoryRoutes.inventoryUpdate, async ({ body }) => {
  await updateInventory(body); // committed before the 201 is sent
  return { status: 201 };
});
