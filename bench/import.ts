import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { LocalQueues } from '../infra/local/sqs.js';
import { startEventSourceMappings } from '../infra/local/sqs.js';
import { createCallers } from './callers.js';
import { makeInvoker } from './invoke.js';
import { ms, summarize, type Verdict } from './stats.js';

const ROWS = 1_000_000;
const PRODUCTS = 1000;
/** Bare COPYs of the file (the median is reported); the import runs once (about 30 s here). */
const COPY_RUNS = 3;
/** How often the job's row is read while it runs (ms): the phase times are this coarse. */
const POLL_MS = 20;
/** The longest the import may take before the bench gives up on it. */
const IMPORT_TIMEOUT_MS = 180_000;

/** The CSV an admin would upload: the header, then `ROWS` rows over `PRODUCTS` products. */
async function writeCsv(path: string): Promise<void> {
  const start = Date.UTC(2025, 0, 1);
  async function* lines() {
    yield 'productid,quantity,timestamp\n';
    const batch: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      const product = `IMPORT-${String(i % PRODUCTS).padStart(4, '0')}`;
      const timestamp = new Date(start + i * 1000).toISOString();
      batch.push(`${product},${i % 5000},${timestamp}\n`);
      if (batch.length === 10_000) {
        yield batch.join('');
        batch.length = 0;
      }
    }
    if (batch.length) yield batch.join('');
  }
  await pipeline(lines, createWriteStream(path));
}

/** PUTs the file to a presigned URL with its signed headers, streamed, as a client would. */
async function putFile(url: string, headers: Record<string, string>, path: string) {
  const target = new URL(url);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: 'PUT',
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    createReadStream(path).pipe(req);
  });
  if (status !== 200) throw new Error(`the presigned PUT of the CSV answered ${status}`);
}

interface JobState {
  status: string;
  progress: number;
  result: { rows?: number } | null;
  error: unknown;
  attempts: number;
}

/**
 * `inventory.import` of 1,000,000 rows (API.md § Background jobs) against the bare COPY of
 * the same file: the CSV is written to a temp file, uploaded through `POST /api/v1/uploads`
 * and its presigned PUT (the local S3, which stores it in parts: fauxqs takes at most 11 MiB
 * a request), submitted with `POST /api/v1/jobs`, and run by the jobs worker on the local
 * event source mapping (started here); the time is from the submit to the job's
 * `succeeded`. No budget in API.md: the ratio is reported, without PASS/FAIL. Expects the
 * functions' environment, the local files' included (see run.ts).
 */
export async function benchImport(queues: LocalQueues): Promise<Verdict[]> {
  const { getSql } = await import('../shared/db/client.js');
  const sql = getSql();
  console.log(
    `\n## Inventory import of ${ROWS.toLocaleString('en')} rows over ${PRODUCTS.toLocaleString('en')} products: inventory.import vs the bare COPY of the file\n`,
  );
  const work = await mkdtemp(join(tmpdir(), 'bench-import-'));
  const file = join(work, 'inventory.csv');
  // The job's row and the bare COPY go through node-postgres (pg-copy-streams): it sets
  // TCP_NODELAY, whereas postgres.js' COPY stream writes CopyData and CopyDone separately and
  // waits out Nagle's algorithm (~80 ms per COPY here); and polling on the functions' own
  // postgres.js pool (DB_POOL_MAX 1) would queue behind the worker's transactions.
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const mappings = startEventSourceMappings(queues, {
    onError: (error) => console.log(`  event source mapping: ${(error as Error).message}`),
  });
  try {
    let t = performance.now();
    await writeCsv(file);
    const size = (await stat(file)).size;
    console.log(
      `  CSV written: ${(size / 1024 / 1024).toFixed(1)} MiB in ${ms(performance.now() - t)}`,
    );

    const [admin] = await createCallers(sql, 1, 'admin');
    const invoker = makeInvoker(admin as NonNullable<typeof admin>);
    const created = await (
      await invoker('createUpload', '/api/v1/uploads', '', {
        filename: 'inventory.csv',
        content_type: 'text/csv',
        size,
      })
    )();
    const upload = JSON.parse(created.body) as {
      upload_id: string;
      url: string;
      headers: Record<string, string>;
    };
    t = performance.now();
    await putFile(upload.url, upload.headers, file);
    const putMs = performance.now() - t;
    console.log(
      `  presigned PUT to the local S3: ${ms(putMs)} (${(size / 1024 / 1024 / (putMs / 1000)).toFixed(0)} MiB/s)`,
    );

    const count = async () =>
      Number((await client.query('SELECT count(*) AS n FROM inventory_records')).rows[0].n);
    const before = await count();
    const submit = await invoker('submitJob', '/api/v1/jobs', '', {
      type: 'inventory.import',
      params: { upload_id: upload.upload_id },
    });
    // Timed from the submit's invocation to the job's row saying `succeeded`; the poll notes
    // when the worker picked it up and when every row was staged (progress 0.99).
    const submitted = performance.now();
    const job = JSON.parse((await submit()).body) as { id: string };
    let running: number | undefined;
    let staged: number | undefined;
    let state: JobState | undefined;
    for (;;) {
      const { rows } = await client.query<JobState>(
        'SELECT status, progress, result, error, attempts FROM jobs WHERE id = $1',
        [job.id],
      );
      state = rows[0];
      const now = performance.now();
      if (state?.status === 'running') running ??= now;
      if (state && state.progress >= 0.99) staged ??= now;
      if (state && ['succeeded', 'failed', 'cancelled'].includes(state.status)) break;
      if (now - submitted > IMPORT_TIMEOUT_MS) {
        throw new Error(`the import did not finish in ${IMPORT_TIMEOUT_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const importMs = performance.now() - submitted;
    if (state.status !== 'succeeded') {
      throw new Error(`the import ended ${state.status}: ${JSON.stringify(state.error)}`);
    }
    const grew = (await count()) - before;
    console.log(
      `  submit → running ${ms((running ?? submitted) - submitted)}, → all rows staged ${ms((staged ?? submitted) - submitted)}, → succeeded ${ms(importMs)} (attempts ${state.attempts}; polled every ${POLL_MS} ms)`,
    );
    console.log(
      `  result.rows ${state.result?.rows?.toLocaleString('en')}, inventory_records grew by ${grew.toLocaleString('en')}`,
    );
    if (state.result?.rows !== ROWS || grew !== ROWS) {
      throw new Error(
        `the import stored ${grew} rows (result.rows ${state.result?.rows}), not ${ROWS}`,
      );
    }

    // The floor: PostgreSQL's own CSV parser on the same bytes into a table like
    // inventory_records (its columns, CHECKs, identity and index: what storing the rows costs
    // anyway), without S3, validation in Node, staging or a second INSERT. Logged, like
    // inventory_records; emptied between runs.
    await client.query('DROP TABLE IF EXISTS bench_import_copy');
    await client.query('CREATE TABLE bench_import_copy (LIKE inventory_records INCLUDING ALL)');
    const copyTimes: number[] = [];
    for (let i = 0; i < COPY_RUNS; i++) {
      await client.query('TRUNCATE bench_import_copy');
      const start = performance.now();
      await pipeline(
        createReadStream(file),
        client.query(
          copyFrom(
            'COPY bench_import_copy (productid, quantity, "timestamp") FROM STDIN (FORMAT csv, HEADER true)',
          ),
        ),
      );
      copyTimes.push(performance.now() - start);
    }
    const copied = Number(
      (await client.query('SELECT count(*) AS n FROM bench_import_copy')).rows[0].n,
    );
    await client.query('DROP TABLE bench_import_copy');
    if (copied !== ROWS) throw new Error(`the bare COPY stored ${copied} rows, not ${ROWS}`);
    const copyStats = summarize(copyTimes);
    console.log(
      `  ${'bare COPY of the file (node-postgres, CSV HEADER)'.padEnd(44)} median ${ms(copyStats.median)}  (n=${copyStats.n}: ${copyTimes.map((x) => ms(x)).join(', ')})`,
    );

    const importRate = ROWS / (importMs / 1000);
    const copyRate = ROWS / (copyStats.median / 1000);
    console.log(
      `  ${Math.round(importRate).toLocaleString('en')} rows/s (inventory.import, submit → succeeded) vs ${Math.round(copyRate).toLocaleString('en')} rows/s (bare COPY)`,
    );
    const ratio = importRate / copyRate;
    const name = `inventory.import of ${ROWS.toLocaleString('en')} rows ÷ bare COPY throughput`;
    console.log(`→ ${name}: ${ratio.toFixed(2)}× (budget report-only)`);
    return [{ name, ratio, budget: 'report-only', pass: null }];
  } finally {
    await mappings.stop();
    await client.end();
    await rm(work, { recursive: true, force: true });
  }
}
