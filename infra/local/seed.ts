import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';

/**
 * Loads `rows` synthetic inventory records over `products` products (`P0000`…) with
 * `COPY … FROM STDIN` (the fastest bulk path), one reading per product per minute from
 * 2024-01-01 UTC. Calls `onProgress(done)` every 50,000 rows. Returns the rows written.
 */
export async function seedInventory(
  sql: postgres.Sql,
  options: { rows: number; products: number; onProgress?: (done: number) => void },
): Promise<number> {
  const start = Date.UTC(2024, 0, 1);
  const width = String(options.products - 1).length;
  const lines = function* () {
    let chunk = '';
    for (let i = 0; i < options.rows; i++) {
      const product = `P${String(i % options.products).padStart(Math.max(4, width), '0')}`;
      const minute = Math.floor(i / options.products);
      chunk += `${product}\t${(i * 7919) % 1000}\t${new Date(start + minute * 60_000).toISOString()}\n`;
      if ((i + 1) % 10_000 === 0) {
        yield chunk;
        chunk = '';
      }
      if ((i + 1) % 50_000 === 0) options.onProgress?.(i + 1);
    }
    if (chunk) yield chunk;
  };
  const copy =
    await sql`COPY inventory_records (productid, quantity, "timestamp") FROM STDIN`.writable();
  await pipeline(Readable.from(lines()), copy);
  options.onProgress?.(options.rows);
  return options.rows;
}
