import type postgres from 'postgres';
import { getSql, type Sql } from './client.js';

/** What one table's retention deletes: rows whose end is older than `keepFor`. */
export interface RetentionRule {
  table: string;
  /** When a row's retention period starts (a column or expression; the index that orders it). */
  endedAt: (sql: Sql) => postgres.PendingQuery<postgres.Row[]>;
  keepFor: { days: number } | { hours: number };
  /** Rows that may be purged at all (e.g. only sent e-mails); none: every row. */
  only?: (sql: Sql) => postgres.PendingQuery<postgres.Row[]>;
}

/**
 * Deletes at most `limit` rows of `rule.table` that ended more than `rule.keepFor` ago, oldest
 * first, in one statement; rows locked by another purge are skipped (`FOR UPDATE SKIP
 * LOCKED`), so concurrent runs never wait on each other. Returns how many. Each batch is
 * its own short statement, so locks, WAL and replication lag stay small. For
 * `functions/workers/retention.ts`, one rule per table beside the table's own rules.
 */
export async function purgeOldest(rule: RetentionRule, limit: number): Promise<number> {
  const sql = getSql();
  const table = sql(rule.table);
  const interval =
    'days' in rule.keepFor
      ? sql`make_interval(days => ${rule.keepFor.days})`
      : sql`make_interval(hours => ${rule.keepFor.hours})`;
  const only = rule.only ? sql`${rule.only(sql)} AND` : sql``;
  const result = await sql`
    DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM ${table}
      WHERE ${only} ${rule.endedAt(sql)} < now() - ${interval}
      ORDER BY ${rule.endedAt(sql)}
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED))`;
  return result.count;
}
