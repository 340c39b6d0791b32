import { addAuditEvent } from '../audit/events.js';
import type { Principal } from '../auth/tokens.js';
import { isUniqueViolation, withTransaction } from '../db/client.js';
import { Conflict, NotFound, PreconditionFailed } from '../errors.js';
import { decodeKeysetCursor, keysetPage, textValue } from '../keyset-cursor.js';
import { publishNow } from '../queue/outbox.js';
import * as repository from './product-repository.js';
import type {
  CreateProductBody,
  ListProductsQuery,
  PatchProductBody,
  Product,
  ProductPage,
} from './schemas.js';

const NOT_FOUND = 'No product with this id.';

/** A product row as the API shows it. */
export function toProduct(row: repository.ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    unit_price: row.unit_price,
    active: row.active,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const isAdmin = (caller: Principal) => caller.role === 'admin';

/**
 * One page of the catalog by name (keyset). Users see active products only, whatever
 * `active` says; admins choose (`true` by default, `false`, `all`).
 * Errors: `BadRequest` for a malformed cursor or one from other filters.
 */
export async function listProducts(
  caller: Principal,
  query: ListProductsQuery,
): Promise<ProductPage> {
  const active = isAdmin(caller) ? { true: true, false: false, all: null }[query.active] : true;
  const filters = [active, query.q ?? null];
  const after = query.cursor ? decodeKeysetCursor(filters, query.cursor, textValue) : null;
  const rows = await repository.listProducts({ active, q: query.q, limit: query.limit }, after);
  const page = keysetPage(rows, query.limit, filters, (row) => row.name);
  return { items: page.rows.map(toProduct), limit: query.limit, next_cursor: page.next_cursor };
}

/** A product; an inactive one only for admins. Errors: `NotFound`. */
export async function getProduct(caller: Principal, id: string): Promise<Product> {
  const row = await repository.findProduct(id);
  if (!row || (!row.active && !isAdmin(caller))) throw new NotFound(NOT_FOUND);
  return toProduct(row);
}

/**
 * Adds a product to the catalog and audits `product.created`.
 * Errors: `Conflict` (409) when the sku is taken.
 */
export async function createProduct(actor: Principal, body: CreateProductBody): Promise<Product> {
  try {
    const { row, eventId } = await withTransaction(async (tx) => {
      const row = await repository.insertProduct(tx, body);
      const eventId = await addAuditEvent(tx, {
        action: 'product.created',
        actorId: actor.userId,
        resourceType: 'product',
        resourceId: row.id,
        metadata: { sku: row.sku, unit_price: row.unit_price },
      });
      return { row, eventId };
    });
    await publishNow([eventId]);
    return toProduct(row);
  } catch (error) {
    if (isUniqueViolation(error, 'products_sku_key')) {
      throw new Conflict(`A product with sku ${body.sku} exists.`);
    }
    throw error;
  }
}

/**
 * Changes a product (optionally only at the `expected` versions, `If-Match`) and audits
 * `product.updated` with the changed fields. Orders keep the prices they were made with.
 * Errors: `NotFound`; `PreconditionFailed` (412) when the version is stale.
 */
export async function updateProduct(
  actor: Principal,
  id: string,
  changes: PatchProductBody,
  expected: number[] | null,
): Promise<Product> {
  const result = await withTransaction(async (tx) => {
    const row = await repository.updateProduct(tx, id, changes, expected);
    if (!row) return null;
    const eventId = await addAuditEvent(tx, {
      action: 'product.updated',
      actorId: actor.userId,
      resourceType: 'product',
      resourceId: row.id,
      metadata: { changes, version: row.version },
    });
    return { row, eventId };
  });
  if (!result) {
    if (!(await repository.findProduct(id))) throw new NotFound(NOT_FOUND);
    throw new PreconditionFailed();
  }
  await publishNow([result.eventId]);
  return toProduct(result.row);
}
