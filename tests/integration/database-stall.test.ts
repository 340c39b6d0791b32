import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../infra/local/postgres.js';
import { migrate } from '../../shared/db/migrations.js';

// This file stops a PostgreSQL server, so it starts its own (never the one other files
// share) and points this worker's functions at it before any handler reads its config.
const root = await mkdtemp(join(tmpdir(), 'notes-pg-stall-'));
// As root the server runs as its own OS user, which must reach the folder.
await chmod(root, 0o755);
const server = await startEmbeddedPostgres({ dataDir: join(root, 'data'), persistent: false });
await migrate({ databaseUrl: server.url, direction: 'up' });
process.env.DATABASE_URL = server.url;
// Many requests at once in one process, like the local gateway (in AWS it is 1).
process.env.DB_POOL_MAX = '10';

const { useApi, expectMatchesContract } = await import('../helpers/api.js');
const { createUser } = await import('../helpers/users.js');
const { getConfig } = await import('../../shared/config.js');
const { closeSql, getSql } = await import('../../shared/db/client.js');
const api = useApi();

/** What the issue asks: every request ends this soon after it starts (ms). */
const REQUEST_BOUND_MS = 3000;
/** …and requests succeed again this soon after the server resumes (ms). */
const RECOVERY_BOUND_MS = 2000;
const STALL_MS = 10_000;
const CLIENTS = 20;

let stopped: number[] = [];

/** Stops the whole server: the postmaster first (so it forks nothing new), then its children. */
async function stopServer(): Promise<void> {
  const [postmaster] = await server.processIds();
  process.kill(postmaster as number, 'SIGSTOP');
  stopped = [postmaster as number];
  // Its children as they are now that it cannot fork any more.
  for (const pid of (await server.processIds()).slice(1)) {
    try {
      process.kill(pid, 'SIGSTOP');
      stopped.push(pid);
    } catch {
      // It exited between the scan and the signal.
    }
  }
}

/** Resumes every process `stopServer` stopped; safe to call twice. */
function resumeServer(): void {
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // The process is gone.
    }
  }
  stopped = [];
}

afterAll(async () => {
  resumeServer();
  await closeSql();
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

interface Sample {
  method: string;
  path: string;
  started: number;
  ended: number;
  status: number;
  headers: Headers;
  text: string;
  error?: string;
}

/** One request, timed from before it is sent until its body has arrived (ms, monotonic). */
async function timed(method: string, path: string, token: string, body?: unknown): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      // Far beyond the bound: a request that hangs is recorded, not waited on forever.
      signal: AbortSignal.timeout(3 * REQUEST_BOUND_MS),
    });
    const text = await response.text();
    return {
      method,
      path,
      started,
      ended: performance.now(),
      status: response.status,
      headers: response.headers,
      text,
    };
  } catch (error) {
    const ended = performance.now();
    return {
      method,
      path,
      started,
      ended,
      status: 0,
      headers: new Headers(),
      text: '',
      error: String(error),
    };
  }
}

const bodyOf = (sample: Sample) => (sample.text ? JSON.parse(sample.text) : undefined);

describe('when PostgreSQL stalls (its processes stopped) and comes back', () => {
  it('every database request ends within 3 s with 2xx or 503 + Retry-After, and service returns within 2 s of the resume', async () => {
    const user = await createUser(api);
    const created = await api.post('/api/v1/notes', {
      token: user.token,
      body: { title: 'Before the stall', content: 'x' },
    });
    expect(created.status).toBe(201);
    const noteId = created.body.id as string;
    const routes = [
      { method: 'GET', path: `/api/v1/notes/${noteId}` },
      { method: 'POST', path: '/api/v1/notes', body: { title: 'During the stall' } },
      { method: 'GET', path: '/api/v1/users/me' },
    ];
    const requests = routes.map(
      (route) => () => timed(route.method, route.path, user.token, route.body),
    );
    // Each route works before the stall.
    for (const request of requests) expect((await request()).status).toBeLessThan(300);

    const samples: Sample[] = [];
    let running = true;
    const clients = Array.from({ length: CLIENTS }, async (_, i) => {
      for (let n = i; running; n++) {
        samples.push(await (requests[n % requests.length] as () => Promise<Sample>)());
      }
    });

    let stoppedAt = Number.NaN;
    let resumedAt = Number.NaN;
    try {
      // Some ordinary traffic first, then the stall.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await stopServer();
      stoppedAt = performance.now();
      // The postmaster and its children (backends, checkpointer, …): not the postmaster alone.
      expect(stopped.length).toBeGreaterThan(1);
      await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    } finally {
      resumeServer();
      resumedAt = performance.now();
    }
    // Traffic goes on past the recovery bound, so requests that start after it are seen.
    await new Promise((resolve) => setTimeout(resolve, RECOVERY_BOUND_MS + 1500));
    running = false;
    await Promise.all(clients);

    // 1. Every request ended within the bound: a success or a 503 problem with Retry-After.
    const durations = samples.map((s) => s.ended - s.started);
    const slowest = Math.max(...durations);
    for (const sample of samples) {
      const what = `${sample.method} ${sample.path} → ${sample.status} ${sample.error ?? ''}`;
      expect(sample.error, what).toBeUndefined();
      expect(sample.ended - sample.started, what).toBeLessThanOrEqual(REQUEST_BOUND_MS);
      expect([200, 201, 503], what).toContain(sample.status);
      const path = new URL(`${api.url}${sample.path}`).pathname;
      expectMatchesContract(sample.method, path, {
        status: sample.status,
        headers: sample.headers,
        text: sample.text,
        body: bodyOf(sample),
      });
      if (sample.status === 503) {
        expect(sample.headers.get('content-type'), what).toBe('application/problem+json');
        expect(Number(sample.headers.get('retry-after')), what).toBeGreaterThan(0);
      }
    }

    // 2. The stall was real: requests that ran wholly inside it answered 503 (none hung).
    const insideStall = samples.filter((s) => s.started >= stoppedAt && s.ended <= resumedAt);
    expect(insideStall.length).toBeGreaterThan(CLIENTS);
    expect(insideStall.every((s) => s.status === 503)).toBe(true);

    // 3. Recovery: each route succeeds again within 2 s of the resume, and every request
    //    that starts after that succeeds.
    const afterResume = samples.filter((s) => s.started >= resumedAt);
    const firstSuccessEnds = routes.map((route) => {
      const first = afterResume.find(
        (s) => s.method === route.method && s.path === route.path && s.status < 300,
      );
      return first ? first.ended - resumedAt : Number.POSITIVE_INFINITY;
    });
    const recovery = Math.max(...firstSuccessEnds);
    expect(recovery).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    const late = afterResume.filter((s) => s.started >= resumedAt + RECOVERY_BOUND_MS);
    expect(late.length).toBeGreaterThan(CLIENTS);
    expect(late.filter((s) => s.status >= 300).map((s) => `${s.path} ${s.status}`)).toEqual([]);

    console.info(
      JSON.stringify({
        requests: samples.length,
        during_stall_503: insideStall.length,
        slowest_request_ms: Math.round(slowest),
        recovery_ms: Math.round(recovery),
        deadline_ms: getConfig().REQUEST_DEADLINE_MS,
      }),
    );
  }, 60_000);

  it('every connection carries the statement, lock and idle-in-transaction timeouts', async () => {
    // `setting` is in the parameter's unit: ms for all three (PostgreSQL docs, pg_settings).
    const rows = await getSql()<{ name: string; setting: string }[]>`
      SELECT name, setting FROM pg_settings
      WHERE name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout')
      ORDER BY name`;
    const config = getConfig();
    expect(rows).toEqual([
      {
        name: 'idle_in_transaction_session_timeout',
        setting: String(config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS),
      },
      { name: 'lock_timeout', setting: String(config.DB_LOCK_TIMEOUT_MS) },
      { name: 'statement_timeout', setting: String(config.DB_STATEMENT_TIMEOUT_MS) },
    ]);
  });

  it('a request that waits on a row lock answers 503 + Retry-After once lock_timeout passes', async () => {
    const user = await createUser(api);
    const created = await api.post('/api/v1/notes', {
      token: user.token,
      body: { title: 'Locked elsewhere' },
    });
    expect(created.status).toBe(201);
    // Another session holds the note's row lock for the whole request.
    const other = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      await other.begin(async (tx) => {
        await tx`SELECT id FROM notes WHERE id = ${created.body.id} FOR UPDATE`;
        const started = performance.now();
        const response = await api.delete(`/api/v1/notes/${created.body.id}`, {
          token: user.token,
        });
        const took = performance.now() - started;
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBeTruthy();
        expect(took).toBeLessThanOrEqual(REQUEST_BOUND_MS);
      });
    } finally {
      await other.end();
    }
    // The lock is gone with that transaction: the same request now succeeds.
    expect(
      (await api.delete(`/api/v1/notes/${created.body.id}`, { token: user.token })).status,
    ).toBe(204);
  });
});
