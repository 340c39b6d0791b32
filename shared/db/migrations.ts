import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import postgres from 'postgres';

/** The repository's `migrations/` folder (SQL files with `-- Up Migration` / `-- Down Migration`). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
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
  const ran = await runner({
    databaseUrl: options.databaseUrl,
    dir: options.dir ?? MIGRATIONS_DIR,
    direction: options.direction,
    count: options.count ?? (options.direction === 'up' ? Number.POSITIVE_INFINITY : 1),
    migrationsTable: MIGRATIONS_TABLE,
    checkOrder: true,
    log: options.log ?? (() => {}),
  });
  return ran.map((m) => m.name);
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
