import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { findUserByEmail } from '../../shared/users/repository.js';
import { register } from '../../shared/users/service.js';
import { uniqueEmail } from '../helpers/users.js';

const run = promisify(execFile);

/** Runs a package script the way a user does, against the test database. */
function npmRun(script: string, ...args: string[]) {
  return run('npm', ['run', '--silent', script, '--', ...args], {
    env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    timeout: 60_000,
  });
}

describe('command line tools', () => {
  it('user:role makes a user admin and back', async () => {
    const email = uniqueEmail('cli');
    await register({ email, password: 'correct horse battery' });
    const { stdout } = await npmRun('user:role', email.toUpperCase(), 'admin');
    expect(stdout).toContain(`${email} is now admin.`);
    expect((await findUserByEmail(email))?.role).toBe('admin');
    await npmRun('user:role', email, 'user');
    expect((await findUserByEmail(email))?.role).toBe('user');
  });

  it('user:role refuses an unknown e-mail and a bad role', async () => {
    await expect(npmRun('user:role', uniqueEmail('nobody'), 'admin')).rejects.toMatchObject({
      stderr: expect.stringContaining('No user has the e-mail'),
    });
    await expect(npmRun('user:role', 'a@example.com', 'root')).rejects.toMatchObject({ code: 2 });
  });

  it('migrate status lists every migration as applied', async () => {
    const { stdout } = await npmRun('migrate', 'status');
    expect(stdout).toMatch(/applied .*users/);
    expect(stdout).toMatch(/applied .*notes/);
    expect(stdout).not.toContain('pending');
  });

  it('invoke runs one handler on an event file, with a real token for --user', async () => {
    const email = uniqueEmail('invoke');
    await register({ email, password: 'correct horse battery' });
    const { stdout } = await npmRun('invoke', 'users/me', 'events/users-me.json', '--user', email);
    const result = JSON.parse(stdout.slice(stdout.indexOf('{\n')));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).email).toBe(email);
  });
});

describe('seed:inventory', () => {
  it('loads the requested rows over the requested products with COPY', async () => {
    const { getSql } = await import('../../shared/db/client.js');
    // Only the seed's product ids (P0000…), as other suites insert concurrently.
    const seeded = async () =>
      (
        await getSql()`SELECT count(*)::int AS n FROM inventory_records WHERE productid ~ '^P[0-9]{4}$'`
      )[0]?.n ?? 0;
    const before = await seeded();
    const { stdout, stderr } = await npmRun('seed:inventory', '--rows', '2500', '--products', '25');
    expect(stdout).toContain('Loaded 2,500 rows over 25 products');
    expect(stderr).toContain('2,500/2,500 rows');
    expect((await seeded()) - before).toBe(2500);
    // Round robin over the products: 2,500 rows over 25 products is 100 each.
    const [perProduct] = await getSql()`
      SELECT count(*)::int AS n FROM inventory_records WHERE productid = 'P0007'`;
    expect(perProduct?.n).toBe(100);
  });
});
