import { createHandler } from '../../shared/http/handler.js';
import { updateInventory } from '../../shared/inventory/service.js';
import { routes } from '../../shared/routes.js';

export const handler = createHandler(routes.inventoryUpdate, async ({ body }) => {
  await updateInventory(body); // committed before the 201 is sent
  return { status: 201 };
});
