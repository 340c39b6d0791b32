import * as z from 'zod';
import { queryInteger, Timestamp, UtcTimestamp } from '../schemas.js';

/** 1–64 chars, starting with a letter or digit (API.md § Inventory). */
export const ProductId = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
    'Letters, digits and . _ : - only, starting with a letter or digit.',
  )
  .meta({ example: 'ABC-123' });

export const InventoryItem = z.strictObject({
  productid: ProductId,
  quantity: z.int().min(0).max(2_147_483_647).meta({ example: 42 }),
  timestamp: Timestamp,
});

export const InventoryUpdateBody = z
  .strictObject({ items: z.array(InventoryItem).min(1).max(1000) })
  .meta({
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
    starttimestamp: Timestamp.optional().meta({ description: 'Inclusive lower bound.' }),
    endtimestamp: Timestamp.optional().meta({ description: 'Inclusive upper bound.' }),
    limit: queryInteger(1, 500, 50).meta({ example: 50 }),
    offset: queryInteger(0, 100_000, 0).meta({ example: 0 }),
  })
  // Both bounds are in the fixed UTC form of `Timestamp`, so text order is time order.
  .refine((q) => !q.starttimestamp || !q.endtimestamp || q.starttimestamp <= q.endtimestamp, {
    message: 'starttimestamp must not be after endtimestamp.',
    path: ['endtimestamp'],
  });
export type InventoryQuery = z.output<typeof InventoryQuery>;

const RECORD_EXAMPLE = {
  id: 1017,
  productid: 'ABC-123',
  quantity: 42,
  timestamp: '2024-01-01T10:00:00.000000Z',
};

export const InventoryRecord = z
  .object({
    id: z.int().min(1).meta({ description: 'bigint identity; exact in JSON up to 2^53.' }),
    productid: z.string(),
    quantity: z.int().min(0).max(2_147_483_647),
    timestamp: UtcTimestamp.meta({ example: '2024-01-01T10:00:00.000000Z' }),
  })
  .meta({ id: 'InventoryRecord', example: RECORD_EXAMPLE });

export const InventoryPage = z
  .object({
    count: z.int().min(0).max(500).meta({ description: 'Items on this page.' }),
    limit: z.int().min(1).max(500),
    offset: z.int().min(0).max(100_000),
    items: z.array(InventoryRecord),
  })
  .meta({
    id: 'InventoryPage',
    example: { count: 1, limit: 50, offset: 0, items: [RECORD_EXAMPLE] },
  });
export type InventoryPage = z.output<typeof InventoryPage>;
