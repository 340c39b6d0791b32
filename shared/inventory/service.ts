import { type TransactionHooks, withTransactionHooks } from '../db/transaction-hooks.js';
import * as repository from './repository.js';
import type { InventoryPage, InventoryQuery, InventoryUpdateBody } from './schemas.js';

/**
 * Stores a batch of 1–1000 records atomically and returns how many; resolves once committed.
 * With `hooks` (an idempotency key's), the insert runs in one transaction between
 * `hooks.begin` and `hooks.commit` (the count is the commit's result); whatever they throw
 * rolls the batch back and propagates. Without, the insert is one statement on its own.
 */
export async function updateInventory(
  body: InventoryUpdateBody,
  hooks?: TransactionHooks<number>,
): Promise<number> {
  if (!hooks) return repository.insertRecords(body.items);
  return withTransactionHooks((tx) => repository.insertRecords(body.items, tx), hooks);
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
