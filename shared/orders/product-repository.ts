import { getSql, type Queryable } from '../db/client.js';
import { likePattern } from '../db/like-pattern.js';
import type { KeysetPosition } from '../keyset-cursor.js';
import type { CreateProductBody, PatchProductBody } from './schemas.js';

export interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  /** `numeric(12,2)` as text, e.g. `"12.50"` (postgres.js never turns it into a float). */
  unit_price: string;
  active: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, sku, name, description, unit_price, active, version, created_at, updated_at';

/** Inserts a product. Errors: unique violation `products_sku_key` when the sku is taken. */
export async function insertProduct(
  sql: Queryable,
  product: CreateProductBody,
): Promise<ProductRow> {
  const [row] = await sql<ProductRow[]>`
    INSERT INTO products (sku, name, description, unit_price, active)
    VALUES (${product.sku}, ${product.name}, ${product.description},
            ${product.unit_price}::numeric, ${product.active})
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row as ProductRow;
}

/** The product with this id, or null. */
export async function findProduct(
  id: string,
  sql: Queryable = getSql(),
): Promise<ProductRow | null> {
  const [row] = await sql<
    ProductRow[]
  >`SELECT ${sql.unsafe(COLUMNS)} FROM products WHERE id = ${id}`;
  return row ?? null;
}

/**
 * Changes the given fields in one statement when the version is one of `expected` (or always
 * when null); bumps `version` and `updated_at`. Null when nothing matched.
 */
export async function updateProduct(
  sql: Queryable,
  id: string,
  changes: PatchProductBody,
  expected: number[] | null,
): Promise<ProductRow | null> {
  const [row] = await sql<ProductRow[]>`
    UPDATE products SET
      name = COALESCE(${changes.name ?? null}::text, name),
      description = COALESCE(${changes.description ?? null}::text, description),
      unit_price = COALESCE(${changes.unit_price ?? null}::numeric, unit_price),
      active = COALESCE(${changes.active ?? null}::boolean, active),
      version = version + 1,
      updated_at = now()
    WHERE id = ${id} ${expected ? sql`AND version = ANY(${expected}::int[])` : sql``}
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row ?? null;
}

/**
 * The products with these ids, locked against changes (`FOR SHARE`) until the caller's
 * transaction ends, so an order copies the price and state it checked.
 */
export async function lockProducts(sql: Queryable, ids: string[]): Promise<ProductRow[]> {
  return sql<ProductRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM products WHERE id = ANY(${ids}::uuid[])
    ORDER BY id FOR SHARE`;
}

/**
 * One keyset page of the catalog by (name, id), `limit + 1` rows. `active`: true/false
 * filters, null lists all. `q`: substring of name or sku (trigram indexes).
 */
export async function listProducts(
  filters: { active: boolean | null; q: string | undefined; limit: number },
  after: KeysetPosition | null,
  sql: Queryable = getSql(),
): Promise<ProductRow[]> {
  return sql<ProductRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM products
    WHERE true
      ${filters.active === null ? sql`` : sql`AND active = ${filters.active}`}
      ${filters.q ? sql`AND (name ILIKE ${likePattern(filters.q)} OR sku ILIKE ${likePattern(filters.q)})` : sql``}
      ${after ? sql`AND (name, id) > (${after.value}::text, ${after.id}::uuid)` : sql``}
    ORDER BY name, id
    LIMIT ${filters.limit + 1}`;
}
