import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/postgres.js';
import { REDIS_MISSING_MESSAGE } from '../setup/global.js';

// What a new user meets in the first hour, run the way they run it (npm scripts, in child
// processes): no redis-server, a taken port, a bad value in .env, a value read from .env.
// Each child runs in a copy of the project made of symlinks (so no developer's .env or
// .local/ is read or touched), in its own process group (so anything it leaves running is
// found), with its own temp dir and state dir, and an environment of its own (none of the
// test run's variables).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  // As root, the embedded PostgreSQL runs as its own OS user, which must reach the folder.
  await chmod(dir, 0o755);
  return dir;
}

/** The project as symlinks, without `.env`, `.local` or `.git`, plus `files` (e.g. a `.env`). */
async function projectCopy(files: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir('first-hour-project-');
  for (const entry of readdirSync(ROOT)) {
    if (['.env', '.local', '.git'].includes(entry)) continue;
    await symlink(join(ROOT, entry), join(dir, entry));
  }
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** A PATH with every program of this one except `program` (a folder of symlinks). */
async function pathWithout(program: string): Promise<string> {
  const dir = await tempDir('first-hour-bin-');
  const seen = new Set<string>([program]);
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of entries) {
      if (seen.has(name)) continue;
      seen.add(name);
      await symlink(join(folder, name), join(dir, name));
    }
  }
  return dir;
}

/** A fresh environment for a child: nothing of this test run (no DATABASE_URL, no STAGE…). */
async function userEnv(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const state = await tempDir('first-hour-state-');
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? state,
    TMPDIR: await tempDir('first-hour-tmp-'),
    LOCAL_STATE_DIR: state,
    // npm's own notices ("New version available") are not the project's output.
    npm_config_update_notifier: 'false',
    ...overrides,
  };
}

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

const running: ChildProcess[] = [];
afterAll(() => {
  for (const child of running) killGroup(child);
});

/** Starts `npm <args>` in `cwd`, leader of its own process group. */
function npm(args: string[], cwd: string, env: Record<string, string>): Run {
  const started = performance.now();
  const child = spawn('npm', args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) =>
      child.once('exit', (code, signal) =>
        resolve({ code, signal, ms: Math.round(performance.now() - started) }),
      ),
    ),
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    run.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
  });
  return run;
}

/** Waits for `run` to exit, at most `deadlineMs`; its output has been read to the end. */
async function finished(run: Run, deadlineMs: number) {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`still running after ${deadlineMs} ms:\n${run.stderr}`)),
      deadlineMs,
    ),
  );
  const result = await Promise.race([run.exited, timeout]);
  await new Promise<void>((resolve) => {
    if (run.child.stdout?.readableEnded && run.child.stderr?.readableEnded) return resolve();
    run.child.once('close', () => resolve());
  });
  return result;
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is empty
  }
}

/** The processes still in the process group `leader` started (what a run left running). */
function leftInGroup(leader: number): string[] {
  const left: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [, , , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (Number(pgrp) === leader && state !== 'Z') {
        left.push(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
      }
    } catch {
      // ended meanwhile
    }
  }
  return left;
}

/** Polls `check` until it holds or `deadlineMs` passes. */
async function eventually(check: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Lines of `text` that are not empty. */
function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim());
}

describe('the first hour of a new user', () => {
  it('npm test without redis-server: one message naming the package, exit 1 at once, no PostgreSQL folder left', async () => {
    // A REDIS_URL in .env must change nothing: the tests never read a developer's .env.
    const project = await projectCopy({ '.env': 'REDIS_URL=redis://127.0.0.1:9\n' });
    const env = await userEnv({ PATH: await pathWithout('redis-server') });
    const run = npm(['test', '--', 'tests/unit/cursor.test.ts'], project, env);
    try {
      const { code, ms } = await finished(run, 30_000);
      expect(code).toBe(1);
      expect(lines(run.stderr)).toEqual([REDIS_MISSING_MESSAGE]);
      expect(run.stderr).toContain('sudo apt-get install redis-server');
      const output = run.stdout + run.stderr;
      expect(output).not.toContain('No test files found');
      expect(output).not.toContain('close timed out');
      // "At once": well under the 10 s vitest used to hang for, with a margin for a busy CI.
      expect(ms).toBeLessThan(15_000);
      expect(
        (await readdir(env.TMPDIR as string)).filter((name) => name.startsWith('notes-pg-')),
      ).toEqual([]);
      expect(leftInGroup(run.child.pid as number)).toEqual([]);
    } finally {
      killGroup(run.child);
    }
  }, 60_000);

  it('npm run dev on a taken port: one line saying so and how to pick another, exit 1, nothing left', async () => {
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    const env = await userEnv({ PORT: String(port) });
    const run = npm(['run', 'dev'], await projectCopy(), env);
    try {
      const { code } = await finished(run, 30_000);
      expect(code).toBe(1);
      expect(lines(run.stderr)).toEqual([
        `Port ${port} is already in use (another npm run dev, or another program). Pick another: PORT=${port + 1} npm run dev`,
      ]);
      expect(run.stdout).not.toContain('EADDRINUSE');
      expect(leftInGroup(run.child.pid as number)).toEqual([]);
      expect(existsSync(join(env.LOCAL_STATE_DIR as string, 'stack.json'))).toBe(false);
    } finally {
      killGroup(run.child);
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 60_000);

  it('npm run dev with a bad value in .env: names the variable and .env, stops the PostgreSQL it started', async () => {
    const project = await projectCopy({ '.env': 'PORT=0\nREDIS_TIMEOUT_MS=fast\n' });
    const env = await userEnv();
    const run = npm(['run', 'dev'], project, env);
    try {
      const { code } = await finished(run, 60_000);
      expect(code).toBe(1);
      expect(lines(run.stderr)).toEqual([
        'Invalid environment:',
        expect.stringMatching(/^ {2}REDIS_TIMEOUT_MS: .+ \(this value comes from \.env\)$/),
      ]);
      // PostgreSQL had started (its cluster exists), and was shut down cleanly: no
      // postmaster.pid, no process of the run left (postgres, redis-server).
      const cluster = join(env.LOCAL_STATE_DIR as string, 'pg');
      expect(existsSync(join(cluster, 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(cluster, 'postmaster.pid'))).toBe(false);
      expect(leftInGroup(run.child.pid as number)).toEqual([]);
      expect(existsSync(join(env.LOCAL_STATE_DIR as string, 'stack.json'))).toBe(false);
    } finally {
      killGroup(run.child);
    }
  }, 90_000);

  it('npm run dev without redis-server runs degraded and says so; Ctrl-C leaves nothing', async () => {
    const env = await userEnv({ PATH: await pathWithout('redis-server'), PORT: '0' });
    const run = npm(['run', 'dev'], await projectCopy(), env);
    try {
      const up = await eventually(() => run.stdout.includes('Ctrl-C stops it'), 60_000);
      expect(up, run.stderr).toBe(true);
      expect(run.stdout).toMatch(
        /Redis {5}none: caching and rate limits are OFF \(no REDIS_URL, no redis-server on the PATH: install it \(Debian\/Ubuntu: sudo apt-get install redis-server\)/,
      );
      const stackFile = join(env.LOCAL_STATE_DIR as string, 'stack.json');
      expect(existsSync(stackFile)).toBe(true);
      // Ctrl-C in a terminal signals the whole foreground process group.
      process.kill(-(run.child.pid as number), 'SIGINT');
      await finished(run, 30_000);
      expect(
        await eventually(() => leftInGroup(run.child.pid as number).length === 0, 10_000),
      ).toBe(true);
      expect(existsSync(stackFile)).toBe(false);
      expect(existsSync(join(env.LOCAL_STATE_DIR as string, 'pg', 'postmaster.pid'))).toBe(false);
    } finally {
      killGroup(run.child);
    }
  }, 90_000);

  it('a script reads .env: npm run migrate -- status uses the DATABASE_URL written there', async () => {
    const databaseUrl = process.env.DATABASE_URL as string;
    const withDotenv = npm(
      ['run', '--silent', 'migrate', '--', 'status'],
      await projectCopy({ '.env': `DATABASE_URL=${databaseUrl}\n` }),
      await userEnv(),
    );
    const without = npm(
      ['run', '--silent', 'migrate', '--', 'status'],
      await projectCopy(),
      await userEnv(),
    );
    try {
      expect((await finished(withDotenv, 60_000)).code, withDotenv.stderr).toBe(0);
      expect(withDotenv.stdout).toMatch(/applied .*users/);
      expect(withDotenv.stdout).not.toContain('pending');
      // The same command without the file has no database to act on.
      expect((await finished(without, 60_000)).code).toBe(1);
      expect(without.stderr).toContain(
        'No database: start the local stack (npm run dev) or set DATABASE_URL.',
      );
    } finally {
      killGroup(withDotenv.child);
      killGroup(without.child);
    }
  }, 90_000);
});
