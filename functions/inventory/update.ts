import { createHandler } from '../../shared/http/handler.js';
import { updateInventory } from '../../shared/inventory/service.js';
import { inventoryRoutes } from '../../shared/routes/inventory.js';

export const handler = createHandler(
  inventoryRoutes.inventoryUpdate,
  async ({ body, idempotency }) => {
    const render = () => ({ status: 201 as const });
    // Committed before the 201 is sent; with an Idempotency-Key, the key's record with it.
    await updateInventory(body, idempotency?.hooks(render));
    return render();
  },
);
