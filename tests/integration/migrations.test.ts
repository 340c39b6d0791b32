import { readdirSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { withDatabase } from '../../infra/local/stack.js';
import { migrate, migrationStatus } from '../../shared/db/migrations.js';

const server = withDatabase(process.env.DATABASE_URL as string, 'postgres');
const name = `migrations_${Date.now().toString(36)}`;
const url = withDatabase(server, name);
const admin = postgres(server, { max: 1, onnotice: () => {} });

afterAll(async () => {
  await admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`;
  await admin.end();
});

async function tables(): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const rows = await sql<{ tablename: string }[]>`
    SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'pgmigrations'
    ORDER BY tablename`;
  await sql.end();
  return rows.map((r) => r.tablename);
}

describe('migrations', () => {
  it('apply up, revert down one by one to empty, and apply up again', async () => {
    await admin`CREATE DATABASE ${admin(name)}`;
    const applied = await migrate({ databaseUrl: url, direction: 'up' });
    const files = readdirSync('migrations').filter((f) => f.endsWith('.sql'));
    expect(applied).toHaveLength(files.length);
    expect(await tables()).toEqual(expect.arrayContaining(['notes', 'users']));
    expect((await migrationStatus(url)).every((m) => m.appliedAt)).toBe(true);

    for (let i = applied.length; i > 0; i--) {
      expect(await migrate({ databaseUrl: url, direction: 'down' })).toHaveLength(1);
    }
    expect(await tables()).toEqual([]);
    expect((await migrationStatus(url)).every((m) => m.appliedAt === null)).toBe(true);

    expect(await migrate({ databaseUrl: url, direction: 'up' })).toEqual(applied);
    expect(await migrate({ databaseUrl: url, direction: 'up' })).toEqual([]);
  });
});
