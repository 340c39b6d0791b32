import { z } from 'zod';

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

const OFFSET = /(Z|[+-]\d{2}:\d{2})$/i;

/**
 * An RFC 3339 timestamp; one without an offset is taken as UTC, never the server's zone
 * (API.md § Conventions). Up to microsecond precision (PostgreSQL's), years 1–9999.
 * Normalised to carry an explicit offset.
 */
export const Timestamp = z.iso
  .datetime({ offset: true, local: true })
  .refine((value) => !/\.\d{7,}/.test(value), 'At most 6 fractional digits (microseconds).')
  .refine((value) => !value.startsWith('0000'), 'The year must be 1 or later.')
  .transform((value) => (OFFSET.test(value) ? value : `${value}Z`))
  .meta({ example: '2024-01-01T10:00:00Z' });

export const InventoryItem = z.strictObject({
  productid: ProductId,
  quantity: z.int().min(0).max(2_147_483_647),
  timestamp: Timestamp,
});

export const InventoryUpdateBody = z
  .strictObject({ items: z.array(InventoryItem).min(1).max(1000) })
  .meta({ id: 'InventoryUpdateRequest' });
export type InventoryUpdateBody = z.output<typeof InventoryUpdateBody>;

export const InventoryQuery = z
  .object({
    productid: ProductId,
    starttimestamp: Timestamp.optional().meta({ description: 'Inclusive lower bound.' }),
    endtimestamp: Timestamp.optional().meta({ description: 'Inclusive upper bound.' }),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(100_000).default(0),
  })
  .refine(
    (q) =>
      !q.starttimestamp ||
      !q.endtimestamp ||
      Date.parse(q.starttimestamp) <= Date.parse(q.endtimestamp),
    { message: 'starttimestamp must not be after endtimestamp.', path: ['endtimestamp'] },
  );
export type InventoryQuery = z.output<typeof InventoryQuery>;

export const InventoryRecord = z
  .object({
    id: z.int().meta({ description: 'bigint identity; exact in JSON up to 2^53.' }),
    productid: z.string(),
    quantity: z.int(),
    timestamp: z.iso.datetime(),
  })
  .meta({ id: 'InventoryRecord' });

export const InventoryPage = z
  .object({
    count: z.int().meta({ description: 'Items on this page.' }),
    limit: z.int(),
    offset: z.int(),
    items: z.array(InventoryRecord),
  })
  .meta({ id: 'InventoryPage' });
export type InventoryPage = z.output<typeof InventoryPage>;
