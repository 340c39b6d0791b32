import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleLikeCdk, deployFunctions } from '../../infra/functions.js';
import { withDatabase } from '../../infra/local/stack.js';
import { grantAppRole } from '../../shared/db/migrations.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Inside node_modules so the bundle's externals (the AWS SDK clients) resolve as in Lambda.
const OUT = join(ROOT, 'node_modules/.cache/deploy-migrate-test', Date.now().toString(36));
const server = withDatabase(process.env.DATABASE_URL as string, 'postgres');
const suffix = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
const role = `app_${suffix}`;
const admin = postgres(server, { max: 1, onnotice: () => {} });
const databases: string[] = [];

/** A new empty database for one test (dropped after the file); returns its URL. */
async function freshDatabase(): Promise<string> {
  const database = `deploy_${suffix}_${databases.length}`;
  await admin`CREATE DATABASE ${admin(database)}`;
  databases.push(database);
  return withDatabase(server, database);
}

/** A connection to the database at `url` as `user` with `password`. */
function connectAs(url: string, user: string, password: string) {
  const target = new URL(url);
  target.username = user;
  target.password = encodeURIComponent(password);
  return postgres(target.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
}

type MigrateHandler = (event: unknown) => Promise<{ applied: string[]; role: string }>;
let handler: MigrateHandler;
const saved = { ...process.env };

/** Runs the bundled handler the way the trigger does (`{}`), with this environment. */
async function invoke(env: Record<string, string | undefined>) {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return await handler({});
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

beforeAll(async () => {
  const bundle = await bundleLikeCdk(deployFunctions.migrate, OUT);
  handler = (await import(bundle)).handler as MigrateHandler;
}, 60_000);

afterAll(async () => {
  for (const database of databases) {
    await admin`DROP DATABASE IF EXISTS ${admin(database)} WITH (FORCE)`;
  }
  await admin`DROP ROLE IF EXISTS ${admin(role)}`;
  await admin.end();
  await rm(OUT, { recursive: true, force: true });
});

describe('migrations on deploy (the bundled trigger function)', () => {
  it('ships the migrations beside the bundle', async () => {
    expect(existsSync(join(OUT, 'index.js'))).toBe(true);
    const shipped = await readdir(join(OUT, 'migrations'));
    expect(shipped.sort()).toEqual((await readdir(join(ROOT, 'migrations'))).sort());
  });

  it('migrates a fresh database, creates the application role, and does nothing new on a re-run', async () => {
    const url = await freshDatabase();
    const credentials = JSON.stringify({ username: role, password: "first 'secret'" });
    const first = await invoke({ DATABASE_URL: url, APP_DATABASE_CREDENTIALS: credentials });
    const files = (await readdir(join(ROOT, 'migrations'))).map((f) => f.replace(/\.sql$/, ''));
    expect(first).toEqual({ applied: files.sort(), role });
    expect(await invoke({ DATABASE_URL: url, APP_DATABASE_CREDENTIALS: credentials })).toEqual({
      applied: [],
      role,
    });
  });

  it('lets the application role read and write rows, and nothing else', async () => {
    const url = await freshDatabase();
    const credentials = JSON.stringify({ username: role, password: "first 'secret'" });
    await invoke({ DATABASE_URL: url, APP_DATABASE_CREDENTIALS: credentials });
    const app = connectAs(url, role, "first 'secret'");
    try {
      const [user] = await app`
        INSERT INTO users (email, name, password_hash) VALUES ('grants@example.com', 'G', 'x')
        RETURNING id`;
      const [note] = await app`
        INSERT INTO notes (owner_id, title) VALUES (${user?.id}, 'granted') RETURNING id, version`;
      expect(note?.version).toBe(1);
      await app`UPDATE notes SET title = 'still granted' WHERE id = ${note?.id}`;
      await app`DELETE FROM notes WHERE id = ${note?.id}`;
      await app`INSERT INTO inventory_records (productid, quantity, timestamp)
        VALUES ('P-1', 1, now())`;

      const refused = async (statement: Promise<unknown>) =>
        expect(statement).rejects.toMatchObject({ code: expect.stringMatching(/^42501$/) });
      await refused(app`DROP TABLE notes`);
      await refused(app`TRUNCATE notes`);
      await refused(app`ALTER TABLE notes ADD COLUMN extra text`);
      await refused(app`CREATE TABLE intruder (id int)`);
      await refused(app`SELECT * FROM pgmigrations`);
    } finally {
      await app.end();
    }
  });

  it('sets the role’s password from the secret on every run (after a rotation too)', async () => {
    const url = await freshDatabase();
    const first = JSON.stringify({ username: role, password: "first 'secret'" });
    await invoke({ DATABASE_URL: url, APP_DATABASE_CREDENTIALS: first });
    const rotated = JSON.stringify({ username: role, password: 'second-secret' });
    await invoke({ DATABASE_URL: url, APP_DATABASE_CREDENTIALS: rotated });
    const old = connectAs(url, role, "first 'secret'");
    await expect(old`SELECT 1`).rejects.toMatchObject({ code: '28P01' });
    await old.end();
    const current = connectAs(url, role, 'second-secret');
    expect(await current`SELECT count(*)::int AS n FROM notes`).toEqual([{ n: 0 }]);
    await current.end();
  });

  it('fails the deploy with a clear message when the configuration is incomplete', async () => {
    const url = await freshDatabase();
    await expect(
      invoke({ DATABASE_URL: url, APP_DATABASE_CREDENTIALS: undefined }),
    ).rejects.toThrow(/APP_DATABASE_CREDENTIALS or APP_DATABASE_SECRET_ARN/);
    await expect(
      invoke({ DATABASE_URL: 'mysql://nope', APP_DATABASE_CREDENTIALS: '{}' }),
    ).rejects.toThrow(/DATABASE_URL/);
  });

  it('refuses a role name that is not a plain identifier', async () => {
    const sql = postgres(await freshDatabase(), { max: 1, onnotice: () => {} });
    try {
      await expect(
        grantAppRole(sql, { username: 'x"; DROP TABLE notes; --', password: 'p' }),
      ).rejects.toThrow(/Invalid role name/);
    } finally {
      await sql.end();
    }
  });
});
