import { readFileSync } from 'node:fs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalDatabase } from '../../infra/local/stack.js';

// Its own database: the counts below are exact only if no other file's rows are purged
// with these, and no other file's retention run purges these.
const database = await startLocalDatabase({ databaseUrl: process.env.DATABASE_URL, fresh: true });
process.env.DATABASE_URL = database.url;

const { getSql, closeSql } = await import('../../shared/db/client.js');
const { purgeExpiredRows } = await import('../../functions/workers/retention.js');
const { purgePublishedOutbox, PUBLISHED_OUTBOX_RETENTION_DAYS } = await import(
  '../../shared/queue/outbox.js'
);
const { ENDED_REFRESH_TOKEN_RETENTION_DAYS, rotateRefreshToken, startRefreshFamily } = await import(
  '../../shared/auth/refresh-tokens.js'
);
const { IDEMPOTENCY_KEY_RETENTION_HOURS, purgeExpiredIdempotencyKeys } = await import(
  '../../shared/db/idempotency-keys.js'
);
const { SENT_EMAIL_RETENTION_DAYS, purgeSentEmails } = await import(
  '../../shared/mail/sent-emails.js'
);
const { UPLOAD_RETENTION_DAYS, purgeExpiredUploads } = await import(
  '../../shared/jobs/repository.js'
);
const { lambdaContext, loadHandler } = await import('../../infra/local/lambda.js');
const sql = getSql();

afterAll(async () => {
  await closeSql();
  await database.stop();
});

beforeEach(async () => {
  await sql`TRUNCATE outbox, refresh_tokens, idempotency_keys, sent_emails, uploads`;
});

/** Outbox rows with a marker, created `createdDaysAgo`, published `publishedDaysAgo` (null: unsent). */
async function outboxRows(
  marker: string,
  count: number,
  createdDaysAgo: number,
  publishedDaysAgo: number | null,
): Promise<void> {
  await sql`
    INSERT INTO outbox (queue, type, payload, created_at, published_at)
    SELECT 'audit', 'test.event', jsonb_build_object('marker', ${marker}::text, 'n', g),
           now() - make_interval(days => ${createdDaysAgo}),
           now() - make_interval(days => ${publishedDaysAgo}::int)
    FROM generate_series(1, ${count}) g`;
}

const outboxLeft = async () =>
  Object.fromEntries(
    (
      await sql<{ marker: string; n: number }[]>`
        SELECT payload->>'marker' AS marker, count(*)::int AS n FROM outbox GROUP BY 1`
    ).map((r) => [r.marker, r.n]),
  );

async function newUser(): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO users (email, password_hash)
    VALUES (${`retention-${crypto.randomUUID()}@example.com`}, 'not-a-hash') RETURNING id`;
  return (row as { id: string }).id;
}

/** A token row of a family that ended (`ended`) or still lives, tagged by its hash. */
async function tokenRow(
  userId: string,
  tag: string,
  times: { expiresInDays: number; revokedDaysAgo?: number; usedDaysAgo?: number },
): Promise<void> {
  await sql`
    INSERT INTO refresh_tokens (family_id, user_id, token_hash, created_at, family_expires_at, used_at, revoked_at)
    VALUES (gen_random_uuid(), ${userId}, ${Buffer.from(tag)}, now() - interval '40 days',
            now() + make_interval(days => ${times.expiresInDays}),
            now() - make_interval(days => ${times.usedDaysAgo ?? null}::int),
            now() - make_interval(days => ${times.revokedDaysAgo ?? null}::int))`;
}

/** `count` idempotency key records named `<tag>-<n>`, created `createdHoursAgo`. */
async function keyRecords(tag: string, count: number, createdHoursAgo: number): Promise<void> {
  await sql`
    INSERT INTO idempotency_keys
      (scope, route, key, fingerprint, response_status, response_headers, created_at)
    SELECT 'retention-user', 'POST /api/v1/inventory/update', ${tag} || '-' || g,
           repeat('a', 64), 201, '{}', now() - make_interval(hours => ${createdHoursAgo})
    FROM generate_series(1, ${count}) g`;
}

const keysLeft = async () =>
  Object.fromEntries(
    (
      await sql<{ tag: string; n: number }[]>`
        SELECT split_part(key, '-', 1) AS tag, count(*)::int AS n FROM idempotency_keys GROUP BY 1`
    ).map((r) => [r.tag, r.n]),
  );

const tokensLeft = async () =>
  (await sql<{ tag: string }[]>`SELECT convert_from(token_hash, 'UTF8') AS tag FROM refresh_tokens`)
    .map((r) => r.tag)
    .sort();

describe('retention', () => {
  it('purges published outbox rows past the period; keeps newer and unsent ones', async () => {
    const days = PUBLISHED_OUTBOX_RETENTION_DAYS;
    await outboxRows('old', 3, days + 2, days + 1);
    await outboxRows('recent', 2, days + 2, days - 1);
    await outboxRows('unsent', 2, days + 30, null);
    await outboxRows('fresh', 1, 0, 0);
    const result = await purgeExpiredRows({ budgetMs: 10_000 });
    expect(result).toEqual({
      deleted: { outbox: 3, refresh_tokens: 0, idempotency_keys: 0, sent_emails: 0, uploads: 0 },
      complete: true,
    });
    expect(await outboxLeft()).toEqual({ recent: 2, unsent: 2, fresh: 1 });
  });

  it('keeps refresh tokens while their family lives (used ones too), purges them a period after it ended', async () => {
    const days = ENDED_REFRESH_TOKEN_RETENTION_DAYS;
    const user = await newUser();
    await tokenRow(user, 'expired-long-ago', { expiresInDays: -(days + 1) });
    await tokenRow(user, 'expired-and-used', { expiresInDays: -(days + 1), usedDaysAgo: 35 });
    await tokenRow(user, 'expired-recently', { expiresInDays: -(days - 1) });
    await tokenRow(user, 'revoked-long-ago', { expiresInDays: 10, revokedDaysAgo: days + 1 });
    await tokenRow(user, 'revoked-recently', { expiresInDays: 10, revokedDaysAgo: 1 });
    await tokenRow(user, 'used-in-a-live-family', { expiresInDays: 2, usedDaysAgo: 27 });
    await tokenRow(user, 'live', { expiresInDays: 29 });
    const result = await purgeExpiredRows({ budgetMs: 10_000 });
    expect(result.deleted.refresh_tokens).toBe(3);
    expect(await tokensLeft()).toEqual([
      'expired-recently',
      'live',
      'revoked-recently',
      'used-in-a-live-family',
    ]);
  });

  it('purges idempotency key records older than 24 hours, in bounded batches; keeps newer ones', async () => {
    const hours = IDEMPOTENCY_KEY_RETENTION_HOURS;
    expect(hours).toBe(24);
    await keyRecords('old', 7, hours + 1);
    await keyRecords('recent', 2, hours - 1);
    await keyRecords('fresh', 1, 0);
    expect(await purgeExpiredIdempotencyKeys(3)).toBe(3);
    expect(await keysLeft()).toEqual({ old: 4, recent: 2, fresh: 1 });
    const result = await purgeExpiredRows({ budgetMs: 10_000, batchSize: 2 });
    expect(result).toEqual({
      deleted: { outbox: 0, refresh_tokens: 0, idempotency_keys: 4, sent_emails: 0, uploads: 0 },
      complete: true,
    });
    expect(await keysLeft()).toEqual({ recent: 2, fresh: 1 });
  });

  it('purges uploads older than 2 days (their object is gone by then); keeps newer ones', async () => {
    expect(UPLOAD_RETENTION_DAYS).toBe(2);
    const [owner] = await sql<{ id: string }[]>`
      INSERT INTO users (email, password_hash) VALUES (${`uploads-${Date.now()}@example.com`}, 'x')
      RETURNING id`;
    const uploads = (marker: string, count: number, daysAgo: number) => sql`
      INSERT INTO uploads (owner_id, object_key, filename, content_type, size, created_at)
      SELECT ${owner?.id as string}, 'uploads/' || gen_random_uuid(), ${marker}, 'text/csv', 10,
             now() - make_interval(secs => ${daysAgo * 86_400})
      FROM generate_series(1, ${count})`;
    await uploads('old', 3, UPLOAD_RETENTION_DAYS + 0.5);
    await uploads('recent', 2, UPLOAD_RETENTION_DAYS - 0.5);
    expect(await purgeExpiredUploads(2)).toBe(2);
    const result = await purgeExpiredRows({ budgetMs: 10_000, batchSize: 2 });
    expect(result.deleted.uploads).toBe(1);
    const left = await sql<{ filename: string; n: number }[]>`
      SELECT filename, count(*)::int AS n FROM uploads GROUP BY filename`;
    expect(left).toEqual([{ filename: 'recent', n: 2 }]);
  });

  it('purges rows of e-mails sent more than 15 days ago; keeps newer and unsent ones', async () => {
    const days = SENT_EMAIL_RETENTION_DAYS;
    expect(days).toBeGreaterThan(14); // SQS keeps a message at most 14 days
    const rows = (state: 'sent' | 'sending', count: number, daysAgo: number) => sql`
      INSERT INTO sent_emails (event_id, state, sent_at, ses_message_id, created_at)
      SELECT gen_random_uuid(), ${state},
             CASE WHEN ${state} = 'sent' THEN now() - make_interval(days => ${daysAgo}) END,
             CASE WHEN ${state} = 'sent' THEN 'ses-' || g END,
             now() - make_interval(days => ${daysAgo})
      FROM generate_series(1, ${count}) g`;
    await rows('sent', 5, days + 1);
    await rows('sent', 2, days - 1);
    await rows('sending', 2, days + 30);
    expect(await purgeSentEmails(2)).toBe(2);
    const result = await purgeExpiredRows({ budgetMs: 10_000, batchSize: 2 });
    expect(result).toEqual({
      deleted: { outbox: 0, refresh_tokens: 0, idempotency_keys: 0, sent_emails: 3, uploads: 0 },
      complete: true,
    });
    const left = await sql<{ state: string; n: number }[]>`
      SELECT state, count(*)::int AS n FROM sent_emails GROUP BY state ORDER BY state`;
    expect(left).toEqual([
      { state: 'sending', n: 2 },
      { state: 'sent', n: 2 },
    ]);
  });

  it('after a purge, replaying a used token of a live family still revokes the family', async () => {
    const user = await newUser();
    const first = await startRefreshFamily(user);
    const { token: second } = await rotateRefreshToken(first);
    // The rotation happened long ago (the family, 30 days long, still lives).
    await sql`UPDATE refresh_tokens SET created_at = now() - interval '25 days',
                used_at = CASE WHEN used_at IS NULL THEN NULL ELSE now() - interval '25 days' END`;
    await purgeExpiredRows({ budgetMs: 10_000 });
    await expect(rotateRefreshToken(first)).rejects.toThrow(/invalid, used or expired/);
    // Reuse detected: the thief's (or the victim's) current token no longer works either.
    await expect(rotateRefreshToken(second)).rejects.toThrow(/invalid, used or expired/);
  });

  it('deletes in bounded batches: one statement takes at most its limit, a run drains the rest', async () => {
    const days = PUBLISHED_OUTBOX_RETENTION_DAYS;
    await outboxRows('old', 25, days + 2, days + 1);
    await outboxRows('recent', 1, 0, 0);
    expect(await purgePublishedOutbox(10)).toBe(10);
    expect(await outboxLeft()).toEqual({ old: 15, recent: 1 });
    const result = await purgeExpiredRows({ budgetMs: 10_000, batchSize: 4 });
    expect(result).toEqual({
      deleted: { outbox: 15, refresh_tokens: 0, idempotency_keys: 0, sent_emails: 0, uploads: 0 },
      complete: true,
    });
    expect(await outboxLeft()).toEqual({ recent: 1 });
  });

  it('stops at its time budget and says so; the next run finishes the job', async () => {
    const days = PUBLISHED_OUTBOX_RETENTION_DAYS;
    await outboxRows('old', 5, days + 2, days + 1);
    expect(await purgeExpiredRows({ budgetMs: 0, batchSize: 2 })).toEqual({
      deleted: { outbox: 0, refresh_tokens: 0, idempotency_keys: 0, sent_emails: 0, uploads: 0 },
      complete: false,
    });
    expect(await purgeExpiredRows({ budgetMs: 10_000, batchSize: 2 })).toMatchObject({
      deleted: { outbox: 5 },
      complete: true,
    });
  });

  it('is idempotent, and concurrent runs share the work without deleting twice', async () => {
    const days = PUBLISHED_OUTBOX_RETENTION_DAYS;
    await outboxRows('old', 40, days + 2, days + 1);
    await outboxRows('recent', 3, 1, 1);
    const runs = await Promise.all([
      purgeExpiredRows({ budgetMs: 10_000, batchSize: 5 }),
      purgeExpiredRows({ budgetMs: 10_000, batchSize: 5 }),
    ]);
    expect(runs.reduce((sum, run) => sum + (run.deleted.outbox ?? 0), 0)).toBe(40);
    const again = await purgeExpiredRows({ budgetMs: 10_000, batchSize: 5 });
    expect(again).toEqual({
      deleted: { outbox: 0, refresh_tokens: 0, idempotency_keys: 0, sent_emails: 0, uploads: 0 },
      complete: true,
    });
    expect(await outboxLeft()).toEqual({ recent: 3 });
  });

  it('runs as the scheduled function on its sample EventBridge event', async () => {
    const days = PUBLISHED_OUTBOX_RETENTION_DAYS;
    await outboxRows('old', 2, days + 2, days + 1);
    const event = JSON.parse(readFileSync('events/workers-retention.json', 'utf8'));
    expect(event['detail-type']).toBe('Scheduled Event');
    const handler = await loadHandler('workers/retention');
    const result = await handler(event, lambdaContext('workers/retention', 10_000));
    expect(result).toEqual({
      deleted: { outbox: 2, refresh_tokens: 0, idempotency_keys: 0, sent_emails: 0, uploads: 0 },
      complete: true,
    });
  });
});
