/**
 * `npm run seed:demo [-- --allow-remote]`: fills a database with something to look at — a
 * demo admin and a demo user (their credentials are printed), a handful of notes for each
 * (some archived), and stock readings of a few products over a few days. Idempotent: each
 * step creates only what is missing and brings the demo records back to their defined state,
 * so a second run changes nothing.
 *
 * Database: `DATABASE_URL` when set, else the running `npm run dev` stack's (whose whole
 * environment is then used, so the archive events reach its queue and its audit log). The
 * demo admin's password is public, so a database on another host than this machine is
 * refused unless `--allow-remote` is given (a tunnel to a deployed stage on localhost cannot
 * be told apart: never point this at one).
 *
 * Accounts go through the users service (argon2id hashes, the same rules as sign-up) and
 * notes through the notes service (versions, cache versions, audit events through the
 * outbox); readings are plain SQL, inserted only where that product has no reading at that
 * instant yet. Adding data (products, customers, orders) is one more entry in `steps`.
 *
 * Exit codes: 0 done; 1 failed, or a demo account exists with another password (its printed
 * credentials would not work); 2 bad usage or a remote database without `--allow-remote`.
 */
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import type { Role } from '../../shared/auth/tokens.js';
import { readRunningStack } from '../local/state.js';

/** A demo account. The passwords are public by design: local demo data only. */
interface DemoAccount {
  key: 'admin' | 'user';
  email: string;
  password: string;
  name: string;
  role: Role;
}

const DEMO_ACCOUNTS: DemoAccount[] = [
  {
    key: 'admin',
    email: 'demo-admin@example.com',
    password: 'demo-admin-password',
    name: 'Demo Admin',
    role: 'admin',
  },
  {
    key: 'user',
    email: 'demo-user@example.com',
    password: 'demo-user-password',
    name: 'Demo User',
    role: 'user',
  },
];

/** Demo notes per account, identified by their title within the owner's notes. */
const DEMO_NOTES: Record<
  DemoAccount['key'],
  { title: string; content: string; archived?: true }[]
> = {
  admin: [
    {
      title: 'Release checklist',
      content: 'Run the migrations, rotate the signing keys, check /health on every stage.',
    },
    {
      title: 'Supplier contacts',
      content: 'Coffee: Aurora Roasters. Tea: Leaf & Co. Mugs: Clayworks (ask for Sam).',
    },
    {
      title: 'Stock count before the holidays',
      content: 'Count coffee, tea and mugs on the last Friday; compare with the readings.',
    },
    {
      title: 'Old on-call rota',
      content: 'Replaced by the shared calendar.',
      archived: true,
    },
  ],
  user: [
    { title: 'Groceries', content: 'Milk, eggs, bread, coffee beans' },
    {
      title: 'Reading list',
      content: 'Designing Data-Intensive Applications; The Pragmatic Programmer',
    },
    { title: 'Trip to Lisbon', content: 'Book the train to Sintra; try the pastéis de nata.' },
    { title: 'Gift ideas', content: 'A scarf, a good notebook, concert tickets.' },
    { title: 'Gym schedule (winter)', content: 'Mon, Wed, Fri at 7:00.', archived: true },
    { title: 'Flat viewing notes', content: 'Too dark, far from the station.', archived: true },
  ],
};

/**
 * Products with readings, `productid` as the inventory API spells it (the future product
 * catalog's `sku` joins on it), with the stock at the start of the window and the amount
 * sold per reading; every `restockEvery` readings the stock goes back up to `start`.
 */
const DEMO_PRODUCTS = [
  { productid: 'DEMO-COFFEE-1KG', start: 120, soldPerReading: 7, restockEvery: 12 },
  { productid: 'DEMO-TEA-100G', start: 300, soldPerReading: 11, restockEvery: 18 },
  { productid: 'DEMO-MUG-WHITE', start: 48, soldPerReading: 2, restockEvery: 20 },
];
/** Readings every 4 hours over five fixed UTC days (fixed, so a later run adds nothing). */
const READINGS_FROM = Date.UTC(2026, 0, 5);
const READINGS_DAYS = 5;
const READING_INTERVAL_HOURS = 4;

/** What one step did. `updated`: existing demo records brought back to their demo state. */
interface StepResult {
  created: number;
  updated: number;
  unchanged: number;
  note?: string;
}

/** What the steps share: the demo accounts' ids, filled by the first step. */
interface SeedContext {
  accounts: Partial<Record<DemoAccount['key'], { id: string; passwordWorks: boolean }>>;
  /** False when no queue is configured: archive events then wait in the outbox. */
  queueConfigured: boolean;
}

interface SeedStep {
  name: string;
  run(context: SeedContext): Promise<StepResult>;
}

const users: SeedStep = {
  name: 'users',
  async run(context) {
    const { register, setRole } = await import('../../shared/users/service.js');
    const { findUserByEmail } = await import('../../shared/users/repository.js');
    const { verifyPassword } = await import('../../shared/auth/passwords.js');
    const { Conflict } = await import('../../shared/errors.js');
    const result: StepResult = { created: 0, updated: 0, unchanged: 0 };
    for (const account of DEMO_ACCOUNTS) {
      try {
        const user = await register(account);
        result.created++;
        if (account.role !== 'user') await setRole(account.email, account.role);
        context.accounts[account.key] = { id: user.id, passwordWorks: true };
        continue;
      } catch (error) {
        if (!(error instanceof Conflict)) throw error;
      }
      const existing = await findUserByEmail(account.email);
      if (!existing) throw new Error(`${account.email} vanished while seeding; run again.`);
      if (existing.role !== account.role) {
        await setRole(account.email, account.role);
        result.updated++;
      } else {
        result.unchanged++;
      }
      context.accounts[account.key] = {
        id: existing.id,
        // Not reset: that would silently change the password of an account someone made.
        passwordWorks: await verifyPassword(existing.password_hash, account.password),
      };
    }
    return result;
  },
};

const notes: SeedStep = {
  name: 'notes',
  async run(context) {
    const { getSql } = await import('../../shared/db/client.js');
    const { archiveNote, createNote, restoreNote } = await import('../../shared/notes/service.js');
    const result: StepResult = { created: 0, updated: 0, unchanged: 0 };
    let archivedNow = 0;
    for (const [key, specs] of Object.entries(DEMO_NOTES) as [
      DemoAccount['key'],
      (typeof DEMO_NOTES)['user'],
    ][]) {
      const owner = context.accounts[key];
      if (!owner) throw new Error(`The demo ${key} account is missing.`);
      const titles = specs.map((spec) => spec.title);
      // The oldest note of each title is the demo's (a later copy is the owner's own).
      const existing = await getSql()<{ id: string; title: string; archived: boolean }[]>`
        SELECT DISTINCT ON (title) id, title, archived_at IS NOT NULL AS archived
        FROM notes WHERE owner_id = ${owner.id} AND title = ANY(${titles}::text[])
        ORDER BY title, created_at, id`;
      const byTitle = new Map(existing.map((row) => [row.title, row]));
      for (const spec of specs) {
        const wantArchived = spec.archived === true;
        let note = byTitle.get(spec.title);
        if (!note) {
          const created = await createNote(owner.id, spec);
          note = { id: created.id, title: created.title, archived: false };
          result.created++;
        } else if (note.archived === wantArchived) {
          result.unchanged++;
          continue;
        } else {
          result.updated++;
        }
        if (wantArchived && !note.archived) {
          await archiveNote(owner.id, note.id);
          archivedNow++;
        } else if (!wantArchived && note.archived) {
          await restoreNote(owner.id, note.id);
        }
      }
    }
    if (archivedNow > 0 && !context.queueConfigured) {
      result.note = 'their archive events wait in the outbox until npm run dev publishes them';
    }
    return result;
  },
};

const readings: SeedStep = {
  name: 'readings',
  async run() {
    const { getSql } = await import('../../shared/db/client.js');
    const productids: string[] = [];
    const quantities: number[] = [];
    const timestamps: string[] = [];
    const perProduct = (READINGS_DAYS * 24) / READING_INTERVAL_HOURS;
    for (const product of DEMO_PRODUCTS) {
      for (let i = 0; i < perProduct; i++) {
        productids.push(product.productid);
        quantities.push(product.start - (i % product.restockEvery) * product.soldPerReading);
        timestamps.push(
          new Date(READINGS_FROM + i * READING_INTERVAL_HOURS * 3_600_000).toISOString(),
        );
      }
    }
    // No unique key on (productid, timestamp) exists, so the check is in the statement; the
    // run-wide advisory lock keeps two seeds from inserting the same reading at once.
    const inserted = await getSql()`
      INSERT INTO inventory_records (productid, quantity, "timestamp")
      SELECT r.productid, r.quantity, r.ts
      FROM unnest(${productids}::text[], ${quantities}::int[], ${timestamps}::timestamptz[])
        AS r(productid, quantity, ts)
      WHERE NOT EXISTS (
        SELECT 1 FROM inventory_records i WHERE i.productid = r.productid AND i."timestamp" = r.ts)`;
    return { created: inserted.count, updated: 0, unchanged: productids.length - inserted.count };
  },
};

/** The seed, in order; later steps may use what earlier ones put in the context. */
const steps: SeedStep[] = [users, notes, readings];

/** True for a URL whose server is this machine (loopback name or address, or a socket). */
function isLocalDatabase(url: URL): boolean {
  if (!url.hostname) return (url.searchParams.get('host') ?? '/').startsWith('/');
  return ['localhost', '[::1]'].includes(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

/** Runs every step under a database-wide advisory lock; prints a summary and the credentials. */
async function seed(databaseHost: string, apiBase: string): Promise<number> {
  // The lock's own connection: the services' pool may have a single one (`DB_POOL_MAX`).
  const lock = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
  try {
    // One seed at a time per database (a session lock, released below).
    const [row] = await lock`SELECT pg_try_advisory_lock(hashtext('seed:demo')) AS locked`;
    if (!row?.locked) throw new Error('Another seed:demo is running on this database; try again.');
    const context: SeedContext = {
      accounts: {},
      queueConfigured: Boolean(process.env.AUDIT_QUEUE_URL),
    };
    console.log(`Demo data on ${databaseHost}:`);
    for (const step of steps) {
      const r = await step.run(context);
      const note = r.note ? ` (${r.note})` : '';
      console.log(
        `  ${step.name.padEnd(9)} ${r.created} created, ${r.updated} updated, ${r.unchanged} already there${note}`,
      );
    }
    let exitCode = 0;
    console.log(`\nSign in (POST ${apiBase}/api/v1/auth/login, or Authorize in ${apiBase}/docs):`);
    for (const account of DEMO_ACCOUNTS) {
      const works = context.accounts[account.key]?.passwordWorks === true;
      if (!works) exitCode = 1;
      console.log(
        `  ${account.role.padEnd(5)}  e-mail ${account.email.padEnd(24)} password ${account.password}${
          works ? '' : '  (NOT VALID: the account already existed with another password)'
        }`,
      );
    }
    const from = new Date(READINGS_FROM).toISOString();
    console.log(
      `\nReadings of ${DEMO_PRODUCTS.map((p) => p.productid).join(', ')}: every ${READING_INTERVAL_HOURS} h for ${READINGS_DAYS} days from ${from}, e.g.\n` +
        `  GET ${apiBase}/api/v1/inventory/query?productid=${DEMO_PRODUCTS[0]?.productid}&starttimestamp=${from}&limit=10`,
    );
    return exitCode;
  } finally {
    await lock.end(); // ending the session releases its advisory lock
  }
}

const { values } = parseArgs({ options: { 'allow-remote': { type: 'boolean', default: false } } });
const running = readRunningStack();
if (process.env.DATABASE_URL === undefined && running) Object.assign(process.env, running.env);
if (!process.env.DATABASE_URL) {
  console.error('No database: start the local stack (npm run dev) or set DATABASE_URL.');
  process.exit(1);
}
let database: URL;
try {
  database = new URL(process.env.DATABASE_URL);
} catch {
  console.error('DATABASE_URL is not a URL (postgres://user:password@host:port/database).');
  process.exit(2);
}
if (!isLocalDatabase(database) && !values['allow-remote']) {
  console.error(
    `The database is on ${database.host}, not this machine. The demo admin's password is ` +
      'public: seed only local databases (or pass --allow-remote).',
  );
  process.exit(2);
}
// The shared config needs a stage (it has no default); this command signs nothing.
process.env.STAGE ??= 'local';
// Only errors from the services' own logs: this command prints its own summary.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

let exitCode = 1;
try {
  const apiBase =
    running && running.env.DATABASE_URL === process.env.DATABASE_URL ? running.url : '';
  exitCode = await seed(database.host, apiBase);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
} finally {
  const { closeSql } = await import('../../shared/db/client.js');
  await closeSql();
}
process.exit(exitCode);
