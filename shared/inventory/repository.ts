import { getSql, type Queryable } from '../db/client.js';
import type { InventoryQuery, InventoryUpdateBody } from './schemas.js';

/**
 * Inserts all items in ONE statement (`unnest` of three arrays), so they are stored all or
 * none; it has committed when the promise resolves. Timestamps travel as text and are cast
 * by PostgreSQL (a JS Date would drop microseconds). Runs on `sql`, the client or a caller's
 * transaction.
 */
export async function insertRecords(
  items: InventoryUpdateBody['items'],
  sql: Queryable = getSql(),
): Promise<number> {
  const result = await sql`
    INSERT INTO inventory_records (productid, quantity, "timestamp")
    SELECT * FROM unnest(
      ${items.map((i) => i.productid)}::text[],
      ${items.map((i) => i.quantity)}::int[],
      ${items.map((i) => i.timestamp)}::text[]::timestamptz[])`;
  return result.count;
}

export interface InventoryRow {
  id: string; // int8 as text from postgres.js
  productid: string;
  quantity: number;
  timestamp: string; // RFC 3339 UTC with microseconds
}

/**
 * One page of a product's records in `[start, end]`, ordered by timestamp then id (stable
 * under equal timestamps). An index-only scan of `inventory_records_product_time_idx`.
 */
export async function queryRecords(query: InventoryQuery): Promise<InventoryRow[]> {
  const sql = getSql();
  return sql<InventoryRow[]>`
    SELECT id, productid, quantity,
           to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "timestamp"
    FROM inventory_records
    WHERE productid = ${query.productid}
      ${query.starttimestamp ? sql`AND "timestamp" >= ${query.starttimestamp}::text::timestamptz` : sql``}
      ${query.endtimestamp ? sql`AND "timestamp" <= ${query.endtimestamp}::text::timestamptz` : sql``}
    ORDER BY "timestamp", id
    LIMIT ${query.limit} OFFSET ${query.offset}`;
}
