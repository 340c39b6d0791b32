/**
 * One inventory record as a client sends it (API.md § Inventory), on its own so the import
 * worker validates CSV rows with exactly this schema without bundling the routes' schemas.
 */
import * as z from 'zod/mini';
import { Timestamp } from '../schemas.js';

/** 1–64 chars, starting with a letter or digit (API.md § Inventory). */
export const ProductId = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(64),
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
      'Letters, digits and . _ : - only, starting with a letter or digit.',
    ),
  )
  .register(z.globalRegistry, { example: 'ABC-123' });

export const InventoryItem = z.strictObject({
  productid: ProductId,
  quantity: z
    .int()
    .check(z.gte(0), z.lte(2_147_483_647))
    .register(z.globalRegistry, { example: 42 }),
  timestamp: Timestamp,
});
