import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { getSql } from '../../shared/db/client.js';
import { findUserByEmail } from '../../shared/users/repository.js';
import { register } from '../../shared/users/service.js';
import { uniqueEmail } from '../helpers/users.js';

const run = promisify(execFile);

/**
 * `npm run invoke`'s HTTP output: `HTTP <status> <reason>`, `Name: value` lines (names
 * lower-cased here), maybe `(N more headers: …)`, a blank line, the body.
 */
function invokeOutput(stdout: string) {
  const [head = '', ...rest] = stdout.split('\n\n');
  const [statusLine = '', ...lines] = head.split('\n');
  const headers: Record<string, string> = {};
  let more: string | undefined;
  for (const line of lines) {
    if (line.startsWith('(')) more = line;
    else
      headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 2);
  }
  return {
    status: Number(statusLine.match(/^HTTP (\d{3})/)?.[1]),
    headers,
    more,
    body: rest.join('\n\n').trim(),
  };
}

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
    const result = invokeOutput(stdout);
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).email).toBe(email);
    // --json: the handler's raw result object, as sam local invoke prints it.
    const raw = JSON.parse(
      (await npmRun('invoke', 'users/me', 'events/users-me.json', '--user', email, '--json'))
        .stdout,
    );
    expect(raw.statusCode).toBe(200);
    expect(JSON.parse(raw.body).email).toBe(email);
  });

  it('invoke prints status, the headers a caller acts on and the body; --headers prints all', async () => {
    const brief = invokeOutput(
      (await npmRun('invoke', 'health/live', 'events/health-live.json')).stdout,
    );
    expect(brief.status).toBe(200);
    expect(Object.keys(brief.headers).sort()).toEqual(['content-type', 'x-request-id']);
    expect(brief.more).toMatch(/^\(\d+ more headers: --headers shows them\)$/);
    expect(JSON.parse(brief.body)).toEqual({ status: 'ok' });
    const full = invokeOutput(
      (await npmRun('invoke', 'health/live', 'events/health-live.json', '--headers')).stdout,
    );
    expect(full.more).toBeUndefined();
    expect(full.headers).toMatchObject({
      'content-type': 'application/json',
      'strict-transport-security': expect.stringMatching(/max-age=/),
      'x-content-type-options': 'nosniff',
      'x-request-id': expect.any(String),
    });
    expect(Object.keys(full.headers).length).toBe(
      Object.keys(brief.headers).length + Number(brief.more?.match(/\d+/)?.[0]),
    );
  });

  it("invoke --user gives the notes samples a note of that user's in place of their placeholder id", async () => {
    const email = uniqueEmail('invoke-notes');
    const user = await register({ email, password: 'correct horse battery' });
    const expected = { get: 200, update: 200, replace: 200, archive: 204, restore: 200 };
    for (const [action, status] of Object.entries(expected)) {
      const { stdout, stderr } = await npmRun(
        'invoke',
        `notes/${action}`,
        `events/notes-${action}.json`,
        '--user',
        email,
      );
      const result = invokeOutput(stdout);
      expect(result.status, action).toBe(status);
      const id = stderr.match(/Created note ([0-9a-f-]{36})/)?.[1];
      expect(id, stderr).toBeDefined();
      const [note] =
        await getSql()`SELECT owner_id, archived_at FROM notes WHERE id = ${id ?? null}`;
      expect(note?.owner_id, action).toBe(user.id);
      expect(note?.archived_at !== null, action).toBe(action === 'archive');
      if (status === 200) expect(JSON.parse(result.body).id, action).toBe(id);
    }
  });

  it('invoke says a signed-in sample needs --user (without it: 401)', async () => {
    const { stdout, stderr } = await npmRun('invoke', 'notes/get', 'events/notes-get.json');
    expect(invokeOutput(stdout).status).toBe(401);
    expect(stderr).toContain('add --user <email>');
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
