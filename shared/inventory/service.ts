import * as repository from './repository.js';
import type { InventoryPage, InventoryQuery, InventoryUpdateBody } from './schemas.js';

/** Stores a batch of 1–1000 records atomically; resolves once committed. */
export async function updateInventory(body: InventoryUpdateBody): Promise<number> {
  return repository.insertRecords(body.items);
}

/** A page of a product's records; `count` is the number of items on this page. */
export async function queryInventory(query: InventoryQuery): Promise<InventoryPage> {
  const rows = await repository.queryRecords(query);
  return {
    count: rows.length,
    limit: query.limit,
    offset: query.offset,
    items: rows.map((row) => ({
      id: Number(row.id),
      productid: row.productid,
      quantity: row.quantity,
      timestamp: row.timestamp,
    })),
  };
}
