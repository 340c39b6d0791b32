import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { login } from '../../shared/users/service.js';

const run = promisify(execFile);

/** Runs the seed script file (as `npm run seed:demo` will) against the test database. */
function seedDemo(env: Record<string, string> = {}) {
  return run('npx', ['tsx', 'infra/scripts/seed-demo.ts'], {
    // One pooled connection, the default outside the test and dev environments.
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', DB_POOL_MAX: '1', ...env },
    timeout: 60_000,
  });
}

/** The credentials the seed prints: `  <role>  e-mail <email>  password <password>`. */
function printedCredentials(stdout: string) {
  return [...stdout.matchAll(/^ {2}(admin|user) +e-mail (\S+) +password (\S+)$/gm)].map(
    ([, role, email, password]) => ({ role, email, password }) as Record<string, string>,
  );
}

/** Everything the seed writes, row by row, so any change (not only a count) shows. */
async function demoState() {
  const sql = getSql();
  const users = await sql`
    SELECT id, email, role, password_hash, updated_at FROM users
    WHERE email LIKE 'demo-%@example.com' ORDER BY email`;
  const notes = await sql`
    SELECT n.id, n.title, n.version, n.updated_at, n.archived_at FROM notes n
    JOIN users u ON u.id = n.owner_id WHERE u.email LIKE 'demo-%@example.com'
    ORDER BY n.id`;
  const [readings] = await sql`
    SELECT count(*)::int AS n, count(DISTINCT productid)::int AS products,
      count(DISTINCT (productid, "timestamp"))::int AS distinct_readings, max(id) AS last_id
    FROM inventory_records WHERE productid LIKE 'DEMO-%'`;
  const [outbox] = await sql`
    SELECT count(*)::int AS n, count(DISTINCT payload->>'resource_id')::int AS archived_notes
    FROM outbox WHERE type = 'note.archived'
      AND payload->>'resource_id' = ANY(${notes.map((n) => n.id)}::text[])`;
  return { users, notes, readings, outbox };
}

describe('npm run seed:demo', () => {
  it('seeds accounts that log in, notes and readings; a second run changes nothing', async () => {
    const first = await seedDemo();
    const afterFirst = await demoState();
    expect(afterFirst.users.map((u) => [u.email, u.role])).toEqual([
      ['demo-admin@example.com', 'admin'],
      ['demo-user@example.com', 'user'],
    ]);
    expect(afterFirst.notes.length).toBeGreaterThanOrEqual(8);
    const archived = afterFirst.notes.filter((n) => n.archived_at !== null);
    expect(archived.length).toBeGreaterThan(0);
    expect(archived.length).toBeLessThan(afterFirst.notes.length);
    // Archived through the service: each archived note has its audit event in the outbox.
    expect(afterFirst.outbox?.archived_notes).toBe(archived.length);
    expect(afterFirst.readings).toMatchObject({ n: 90, products: 3, distinct_readings: 90 });

    const second = await seedDemo();
    expect(await demoState()).toEqual(afterFirst);
    for (const step of ['users', 'notes', 'readings']) {
      expect(second.stdout).toMatch(
        new RegExp(`^ {2}${step} +0 created, 0 updated, \\d+ already`, 'm'),
      );
    }

    const credentials = printedCredentials(first.stdout);
    expect(credentials.map((c) => c.role)).toEqual(['admin', 'user']);
    expect(printedCredentials(second.stdout)).toEqual(credentials);
    for (const { role, email, password } of credentials) {
      const tokens = await login(
        { email: email as string, password: password as string },
        {
          ip: '203.0.113.50',
        },
      );
      expect(decodeJwt(tokens.access_token).role, email).toBe(role);
    }
  });

  it('brings changed demo records back to their demo state', async () => {
    await seedDemo();
    const sql = getSql();
    await sql`UPDATE users SET role = 'admin' WHERE email = 'demo-user@example.com'`;
    const [note] = await sql<{ id: string }[]>`
      UPDATE notes SET archived_at = NULL WHERE id = (
        SELECT n.id FROM notes n JOIN users u ON u.id = n.owner_id
        WHERE u.email = 'demo-user@example.com' AND n.archived_at IS NOT NULL LIMIT 1)
      RETURNING id`;
    const { stdout } = await seedDemo();
    expect(stdout).toMatch(/^ {2}users +0 created, 1 updated/m);
    expect(stdout).toMatch(/^ {2}notes +0 created, 1 updated/m);
    const [user] = await sql`SELECT role FROM users WHERE email = 'demo-user@example.com'`;
    expect(user?.role).toBe('user');
    const [again] = await sql`SELECT archived_at FROM notes WHERE id = ${note?.id ?? null}`;
    expect(again?.archived_at).not.toBeNull();
  });

  it('refuses a database on another machine (without --allow-remote)', async () => {
    await expect(
      seedDemo({ DATABASE_URL: 'postgres://app:secret@db.example.com:5432/notes' }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('db.example.com:5432, not this machine'),
    });
  });
});
