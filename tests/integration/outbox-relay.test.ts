import { randomUUID } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalQueues } from '../../infra/local/sqs.js';
import { startLocalDatabase } from '../../infra/local/stack.js';
import { eventually } from '../helpers/eventually.js';

// This file has its own database (so no other file's relay takes its rows, and its relays
// take no one else's), its own fauxqs, and between the functions and fauxqs a gate: a proxy
// that can hold SQS calls open, to look at the rows while a call is in flight.
const database = await startLocalDatabase({ databaseUrl: process.env.DATABASE_URL, fresh: true });
const queues = await startLocalQueues();
const fauxqs = new URL(queues.endpoint);

type Held = { forward: () => void };
const gate = { holding: false, failing: false, held: [] as Held[], calls: 0 };
const proxy = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    gate.calls += 1;
    if (gate.failing) {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'InternalError', message: 'gate says no' }));
      return;
    }
    const forward = () => {
      const upstream = request(
        {
          host: fauxqs.hostname,
          port: fauxqs.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: fauxqs.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.end(Buffer.concat(chunks));
    };
    if (gate.holding) gate.held.push({ forward });
    else forward();
  });
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
Object.assign(process.env, queues.env, {
  DATABASE_URL: database.url,
  SQS_ENDPOINT: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
  // The request path's publish waits for SQS this long: longer than any hold below.
  OUTBOX_PUBLISH_TIMEOUT_MS: '5000',
});

const { getSql, closeSql } = await import('../../shared/db/client.js');
const { publishNow, relayOutbox } = await import('../../shared/queue/outbox.js');
/** A second, independent connection: another transaction looking at the same rows. */
const other = postgres(database.url, { max: 1, onnotice: () => {} });

afterAll(async () => {
  for (const held of gate.held.splice(0)) held.forward();
  await new Promise((resolve) => proxy.close(resolve));
  await other.end();
  await closeSql();
  await queues.stop();
  await database.stop();
});

beforeEach(() => {
  Object.assign(gate, { holding: false, failing: false, held: [], calls: 0 });
});

/** Adds `n` audit events to the outbox, as a committed write would; returns their ids. */
async function addEvents(n: number): Promise<string[]> {
  const rows = await getSql()<{ id: string }[]>`
    INSERT INTO outbox (queue, type, payload)
    SELECT 'audit', 'test.event', jsonb_build_object('resource_id', ${randomUUID()}::text, 'n', g)
    FROM generate_series(1, ${n}) g
    RETURNING id`;
  return rows.map((r) => r.id);
}

/** How many messages in the audit queue carry each of `ids` as their event id. */
function deliveries(ids: string[]): number[] {
  const messages = queues.server.inspectQueue('audit')?.messages.ready ?? [];
  const counts = new Map<string, number>();
  for (const message of messages) {
    const id = (JSON.parse(message.body) as { event_id: string }).event_id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return ids.map((id) => counts.get(id) ?? 0);
}

const state = (id: string) =>
  getSql()<
    {
      published: boolean;
      attempts: number;
      claimed: boolean;
      due_later: boolean;
    }[]
  >`
    SELECT published_at IS NOT NULL AS published, attempts,
           claimed_until IS NOT NULL AND claimed_until > now() AS claimed,
           next_attempt_at > now() AS due_later
    FROM outbox WHERE id = ${id}`.then((rows) => rows[0]);

/** True when another transaction can lock the row at once (no publisher holds it). */
async function lockableElsewhere(id: string): Promise<boolean> {
  return other
    .begin(async (tx) => {
      await tx`SELECT id FROM outbox WHERE id = ${id} FOR UPDATE NOWAIT`;
      return true;
    })
    .catch((error: { code?: string }) => {
      if (error.code === '55P03') return false; // lock_not_available
      throw error;
    });
}

describe('outbox publishing: leases, no row locks during SQS calls', () => {
  const publishers: [string, (ids: string[]) => Promise<unknown>][] = [
    ['the relay', () => relayOutbox()],
    ['the request-path publish', (ids) => publishNow(ids)],
  ];
  for (const [name, publish] of publishers) {
    it(`${name} holds no row lock while its SQS call is in flight, then sends the row once`, async () => {
      const [id] = (await addEvents(1)) as [string];
      gate.holding = true;
      const publishing = publish([id]);
      await eventually(() => gate.held.length === 1);
      // The call is open: the row is claimed, yet any other transaction can lock it.
      expect(await lockableElsewhere(id)).toBe(true);
      expect(await state(id)).toMatchObject({ published: false, claimed: true });
      // A concurrent relay leaves a claimed row alone: nothing more is sent.
      expect(await relayOutbox()).toBe(0);
      expect(gate.calls).toBe(1);
      (gate.held.shift() as Held).forward();
      await publishing;
      expect(await state(id)).toMatchObject({ published: true, claimed: false });
      expect(deliveries([id])).toEqual([1]);
    });
  }

  it('a publisher that dies after claiming: the row waits for its lease, then goes out once', async () => {
    const [id] = (await addEvents(1)) as [string];
    // What a publisher that crashed between its claim and its SQS call leaves behind.
    await getSql()`UPDATE outbox SET claimed_until = now() + interval '30 seconds' WHERE id = ${id}`;
    expect(await relayOutbox()).toBe(0);
    expect(deliveries([id])).toEqual([0]);
    // The lease runs out (moved into the past instead of waiting 30 s).
    await getSql()`UPDATE outbox SET claimed_until = now() - interval '1 second' WHERE id = ${id}`;
    expect(await relayOutbox()).toBeGreaterThanOrEqual(1);
    expect(await state(id)).toMatchObject({ published: true, claimed: false });
    expect(deliveries([id])).toEqual([1]);
  });

  it('SQS failing: the row records an attempt, backs off, frees its lease, and is sent later', async () => {
    const [id] = (await addEvents(1)) as [string];
    gate.failing = true;
    expect(await relayOutbox()).toBe(0);
    expect(await state(id)).toEqual({
      published: false,
      attempts: 1,
      claimed: false,
      due_later: true,
    });
    expect(await lockableElsewhere(id)).toBe(true);
    gate.failing = false;
    // The backoff passes (moved into the past instead of waiting 2 s).
    await getSql()`UPDATE outbox SET next_attempt_at = now() WHERE id = ${id}`;
    expect(await relayOutbox()).toBeGreaterThanOrEqual(1);
    expect(await state(id)).toMatchObject({ published: true, attempts: 1 });
    expect(deliveries([id])).toEqual([1]);
  });

  it('concurrent relays and a request-path publish: every row sent exactly once, none lost', async () => {
    const ids = await addEvents(35);
    await Promise.all([relayOutbox(), relayOutbox(), publishNow(ids.slice(0, 10))]);
    const [pending] = await getSql()<{ n: number }[]>`
      SELECT count(*)::int AS n FROM outbox WHERE id = ANY(${ids}::uuid[]) AND published_at IS NULL`;
    expect(pending?.n).toBe(0);
    expect(deliveries(ids)).toEqual(ids.map(() => 1));
  });
});
