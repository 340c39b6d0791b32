import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { seedInventory } from '../infra/local/seed.js';
import { getSql } from '../shared/db/client.js';
import { createCallers } from './callers.js';
import { cpuLine, measureInInstance } from './instance.js';
import { makeInvoker, roundRobin } from './invoke.js';
import { ms, summarize, time, type Verdict } from './stats.js';

/**
 * Admins the inventory requests take turns with (each with its own source IP): about 22
 * queries each in the whole bench (warm-up, timed, floor and CPU blocks: ~5,600 in all),
 * below the 30/min per user of `inventoryQuery`.
 */
const ADMINS = 256;

/** The handler's query for the same page, as bare SQL (`$1` product, `$2`/`$3` the bounds). */
const BARE_QUERY = `
  SELECT id, productid, quantity,
         to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "timestamp"
  FROM inventory_records
  WHERE productid = $1
    AND "timestamp" >= $2::text::timestamptz AND "timestamp" <= $3::text::timestamptz
  ORDER BY "timestamp", id LIMIT 50 OFFSET 0`;

/**
 * Inventory budgets (API.md): the time-range query on 1,000,000 rows through the handler vs
 * the bare SQL (≤ 1.5×), its `EXPLAIN (ANALYZE, BUFFERS)`, and a 1,000-item update through
 * the handler vs `COPY` of the same rows (throughput ≥ 0.5×). Expects the functions'
 * environment to be set up (see run.ts).
 */
export async function benchInventory(iterations: number): Promise<Verdict[]> {
  const sql = getSql();
  const verdicts: Verdict[] = [];
  const line = (label: string, samples: number[]) => {
    const s = summarize(samples);
    console.log(`  ${label.padEnd(44)} median ${ms(s.median)}  p99 ${ms(s.p99)}  (n=${s.n})`);
    return s;
  };

  console.log('\n## Inventory: seeding 1,000,000 rows over 1,000 products (COPY)\n');
  const seedStart = Date.now();
  await seedInventory(sql, { rows: 1_000_000, products: 1000 });
  await sql`VACUUM ANALYZE inventory_records`;
  console.log(`  seeded and vacuumed in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

  const adminCallers = await createCallers(sql, ADMINS, 'admin');
  const admins = adminCallers.map(makeInvoker);
  const params = { productid: 'P0500', start: '2024-01-01T05:00:00Z', end: '2024-01-01T15:00:00Z' };

  console.log('\n  EXPLAIN (ANALYZE, BUFFERS) of the query:');
  const plan = await sql.unsafe(
    `EXPLAIN (ANALYZE, BUFFERS) SELECT id, productid, quantity, "timestamp" FROM inventory_records
     WHERE productid = '${params.productid}' AND "timestamp" >= '${params.start}' AND "timestamp" <= '${params.end}'
     ORDER BY "timestamp", id LIMIT 50 OFFSET 0`,
  );
  for (const row of plan) console.log(`    ${row['QUERY PLAN']}`);

  console.log(
    `\n## Inventory query on 1,000,000 rows: handler vs bare SQL (${iterations} each, alternating, after ${2 * iterations} untimed, in a process playing one Lambda instance; ${ADMINS} admins in turn)\n`,
  );
  const instance = await measureInInstance({
    route: 'inventoryQuery',
    calls: adminCallers.map((admin) => ({
      path: '/api/v1/inventory/query',
      query: `productid=${params.productid}&starttimestamp=${params.start}&endtimestamp=${params.end}&limit=50`,
      token: admin.token,
      userId: admin.id,
      sourceIp: admin.sourceIp,
      bareParams: [params.productid, params.start, params.end],
    })),
    bare: BARE_QUERY,
    iterations,
    warmup: 2 * iterations,
    floorIterations: Math.ceil(iterations / 2),
  });
  const h = line('handler (JWT, limits, deny list, validation)', instance.handler);
  const b = line('bare SQL', instance.bare);
  const floor = line('  bare SQL + the Redis pipeline, concurrently', instance.floor);
  const floorBare = line('  bare SQL (alternating with the line above)', instance.floorBare);
  console.log(
    `    floor of the design (no middleware, handler or validation): ${(floor.median / floorBare.median).toFixed(2)}× the bare SQL`,
  );
  console.log(cpuLine(instance.cpu));
  const ratio = h.median / b.median;
  console.log(
    `→ inventory query handler ÷ bare: ${ratio.toFixed(2)}× (budget ≤ 1.5×) ${ratio <= 1.5 ? 'PASS' : 'FAIL'}`,
  );
  verdicts.push({
    name: 'inventory query handler ÷ bare SQL',
    ratio,
    budget: '≤ 1.5×',
    pass: ratio <= 1.5,
  });

  console.log('\n## Inventory update of 1,000 items: handler vs COPY of the same rows (20 each)\n');
  const items = Array.from({ length: 1000 }, (_, i) => ({
    productid: `BENCH-${i % 10}`,
    quantity: i,
    timestamp: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
  }));
  const update = roundRobin(
    await Promise.all(
      admins.map((invoker) =>
        invoker('inventoryUpdate', '/api/v1/inventory/update', '', { items }),
      ),
    ),
  );
  // COPY through node-postgres (pg-copy-streams): it sets TCP_NODELAY, whereas postgres.js'
  // COPY stream writes CopyData and CopyDone separately and waits out Nagle's algorithm
  // (~80 ms per COPY here), which would flatter the handler.
  const copyClient = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await copyClient.connect();
  const text = items.map((i) => `${i.productid}\t${i.quantity}\t${i.timestamp}\n`).join('');
  const copy = () =>
    pipeline(
      Readable.from([text]),
      copyClient.query(
        copyFrom('COPY inventory_records (productid, quantity, "timestamp") FROM STDIN'),
      ),
    );
  const handlerTimes = await time(update, 20, 3);
  const copyTimes = await time(copy, 20, 3);
  const hu = line('1,000-item update through the handler', handlerTimes);
  const cu = line('COPY of the same 1,000 rows', copyTimes);
  const throughput = cu.median / hu.median; // rows/s ratio = inverse time ratio
  console.log(
    `  ${Math.round(1000 / (hu.median / 1000)).toLocaleString('en')} rows/s vs ${Math.round(1000 / (cu.median / 1000)).toLocaleString('en')} rows/s`,
  );
  console.log(
    `→ update throughput ÷ COPY: ${throughput.toFixed(2)}× (budget ≥ 0.5×) ${throughput >= 0.5 ? 'PASS' : 'FAIL'}`,
  );
  await copyClient.end();
  verdicts.push({
    name: 'inventory update throughput ÷ COPY',
    ratio: throughput,
    budget: '≥ 0.5×',
    pass: throughput >= 0.5,
  });
  return verdicts;
}
