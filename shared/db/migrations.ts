import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import postgres from 'postgres';

/**
 * The `migrations/` folder (SQL files with `-- Up Migration` / `-- Down Migration`): the
 * repository's, or, inside the migration function's bundle, the copy CDK puts beside it.
 */
export const MIGRATIONS_DIR = [
  fileURLToPath(new URL('../../migrations', import.meta.url)),
  fileURLToPath(new URL('./migrations', import.meta.url)),
].find((dir) => existsSync(dir)) as string;
/** Table where node-pg-migrate records applied migrations. */
export const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrateOptions {
  databaseUrl: string;
  direction: 'up' | 'down';
  /** How many to apply (up) or revert (down); default: all pending up, one down. */
  count?: number;
  dir?: string;
  log?: (message: string) => void;
}

/**
 * Applies or reverts migrations with node-pg-migrate, each in its own transaction, under its
 * advisory lock (so concurrent deploys cannot race). Returns the names it ran.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  // Our own client, ended and awaited here: node-pg-migrate's own does not await its
  // `end()`, so a caller that drops the database right after (the tests) could terminate
  // the still-open connection, whose 'error' event nobody listens to (an uncaught error).
  const client = new pg.Client({ connectionString: options.databaseUrl });
  let failure: unknown;
  client.on('error', (error) => {
    failure ??= error;
  });
  await client.connect();
  try {
    const ran = await runner({
      dbClient: client,
      dir: options.dir ?? MIGRATIONS_DIR,
      direction: options.direction,
      count: options.count ?? (options.direction === 'up' ? Number.POSITIVE_INFINITY : 1),
      migrationsTable: MIGRATIONS_TABLE,
      checkOrder: true,
      log: options.log ?? (() => {}),
    });
    if (failure) throw failure;
    return ran.map((m) => m.name);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Every migration file with the time it was applied, or null when pending. */
export async function migrationStatus(
  databaseUrl: string,
  dir = MIGRATIONS_DIR,
): Promise<{ name: string; appliedAt: Date | null }[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await sql`SELECT to_regclass(${MIGRATIONS_TABLE}) IS NOT NULL AS present`;
    const applied = exists?.present
      ? await sql<
          { name: string; run_on: Date }[]
        >`SELECT name, run_on FROM ${sql(MIGRATIONS_TABLE)}`
      : [];
    const byName = new Map(applied.map((row) => [row.name, row.run_on]));
    return files.map((file) => {
      const name = file.replace(/\.sql$/, '');
      return { name, appliedAt: byName.get(name) ?? null };
    });
  } finally {
    await sql.end();
  }
}

/** Login and password of the application's database role. */
export interface RoleCredentials {
  username: string;
  password: string;
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates the application's login role, or updates its password, and grants it exactly what
 * the functions need: CONNECT on the database, USAGE on schema `public`, SELECT, INSERT,
 * UPDATE and DELETE on its tables and USAGE/SELECT/UPDATE on its sequences, nothing on the
 * migrations table. The role owns nothing, so it cannot create, alter, drop or truncate
 * (least privilege; the schema's owner runs the migrations). Idempotent: run after every
 * migration so new tables are granted too. `sql` connects as the schema's owner.
 * Errors: a role name outside `[a-z_][a-z0-9_]*`; PostgreSQL errors.
 */
export async function grantAppRole(sql: postgres.Sql, role: RoleCredentials): Promise<void> {
  if (!ROLE_NAME.test(role.username)) throw new Error(`Invalid role name "${role.username}".`);
  const name = sql(role.username);
  // ALTER ROLE takes no bind parameters: a literal, quotes doubled (standard_conforming_strings).
  const password = `'${role.password.replace(/'/g, "''")}'`;
  await sql.begin(async (tx) => {
    const [existing] = await tx`SELECT 1 FROM pg_roles WHERE rolname = ${role.username}`;
    if (!existing) await tx`CREATE ROLE ${name} LOGIN`;
    await tx`ALTER ROLE ${name} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${tx.unsafe(password)}`;
    const [current] = await tx<{ database: string }[]>`SELECT current_database() AS database`;
    await tx`GRANT CONNECT ON DATABASE ${tx(current?.database as string)} TO ${name}`;
    await tx`GRANT USAGE ON SCHEMA public TO ${name}`;
    await tx`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${name}`;
    await tx`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${name}`;
    await tx`REVOKE ALL ON TABLE ${tx(MIGRATIONS_TABLE)} FROM ${name}`;
  });
}
