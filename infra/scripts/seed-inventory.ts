/**
 * `npm run seed:inventory -- --rows 1000000 --products 1000 [--truncate]`: bulk-loads
 * synthetic inventory records with COPY into `DATABASE_URL`, else the running dev stack's
 * database, with a progress bar on stderr. `--truncate` empties the table first.
 */
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { seedInventory } from '../local/seed.js';
import { resolveDatabaseUrl } from '../local/state.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    products: { type: 'string', default: '1000' },
    truncate: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const products = Number(values.products);
if (
  !Number.isInteger(rows) ||
  rows < 1 ||
  !Number.isInteger(products) ||
  products < 1 ||
  products > rows
) {
  console.error(
    'Usage: npm run seed:inventory -- --rows <n ≥ 1> --products <1..rows> [--truncate]',
  );
  process.exit(2);
}

const sql = postgres(resolveDatabaseUrl(), { max: 1, onnotice: () => {} });
const started = Date.now();
const bar = (done: number) => {
  const width = 30;
  const filled = Math.round((done / rows) * width);
  const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
  process.stderr.write(
    `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en')}/${rows.toLocaleString('en')} rows  ${Math.round(rate).toLocaleString('en')} rows/s`,
  );
};
try {
  if (values.truncate) await sql`TRUNCATE inventory_records RESTART IDENTITY`;
  await seedInventory(sql, { rows, products, onProgress: bar });
  process.stderr.write('\n');
  await sql`ANALYZE inventory_records`;
  console.log(
    `Loaded ${rows.toLocaleString('en')} rows over ${products} products in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
  );
} catch (error) {
  console.error(`\n${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
} finally {
  await sql.end();
}
