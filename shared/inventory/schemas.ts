import * as z from 'zod/mini';
import { queryInteger, Timestamp, UtcTimestamp } from '../schemas.js';

import { InventoryItem, ProductId } from './item.js';

export { InventoryItem, ProductId };

export const InventoryUpdateBody = z
  .strictObject({ items: z.array(InventoryItem).check(z.minLength(1), z.maxLength(1000)) })
  .register(z.globalRegistry, {
    id: 'InventoryUpdateRequest',
    example: {
      items: [
        { productid: 'ABC-123', quantity: 42, timestamp: '2024-01-01T10:00:00Z' },
        { productid: 'ABC-123', quantity: 40, timestamp: '2024-01-01T12:30:00+02:00' },
      ],
    },
  });
export type InventoryUpdateBody = z.output<typeof InventoryUpdateBody>;

export const InventoryQuery = z
  .object({
    productid: ProductId,
    starttimestamp: z
      .optional(Timestamp)
      .register(z.globalRegistry, { description: 'Inclusive lower bound.' }),
    endtimestamp: z
      .optional(Timestamp)
      .register(z.globalRegistry, { description: 'Inclusive upper bound.' }),
    limit: queryInteger(1, 500, 50).register(z.globalRegistry, { example: 50 }),
    offset: queryInteger(0, 100_000, 0).register(z.globalRegistry, { example: 0 }),
  })
  .check(
    // Both bounds are in the fixed UTC form of `Timestamp`, so text order is time order.
    z.refine((q) => !q.starttimestamp || !q.endtimestamp || q.starttimestamp <= q.endtimestamp, {
      message: 'starttimestamp must not be after endtimestamp.',
      path: ['endtimestamp'],
    }),
  );
export type InventoryQuery = z.output<typeof InventoryQuery>;

const RECORD_EXAMPLE = {
  id: 1017,
  productid: 'ABC-123',
  quantity: 42,
  timestamp: '2024-01-01T10:00:00.000000Z',
};

export const InventoryRecord = z
  .object({
    id: z
      .int()
      .check(z.gte(1))
      .register(z.globalRegistry, { description: 'bigint identity; exact in JSON up to 2^53.' }),
    productid: z.string(),
    quantity: z.int().check(z.gte(0), z.lte(2_147_483_647)),
    // A copy of `UtcTimestamp` with its own example (microseconds, as the table keeps them).
    timestamp: UtcTimestamp.clone().register(z.globalRegistry, {
      example: '2024-01-01T10:00:00.000000Z',
    }),
  })
  .register(z.globalRegistry, { id: 'InventoryRecord', example: RECORD_EXAMPLE });

export const InventoryPage = z
  .object({
    count: z
      .int()
      .check(z.gte(0), z.lte(500))
      .register(z.globalRegistry, { description: 'Items on this page.' }),
    limit: z.int().check(z.gte(1), z.lte(500)),
    offset: z.int().check(z.gte(0), z.lte(100_000)),
    items: z.array(InventoryRecord),
  })
  .register(z.globalRegistry, {
    id: 'InventoryPage',
    example: { count: 1, limit: 50, offset: 0, items: [RECORD_EXAMPLE] },
  });
export type InventoryPage = z.output<typeof InventoryPage>;
