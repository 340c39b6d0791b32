import { issueAccessToken } from '../shared/auth/tokens.js';
import type { Sql } from '../shared/db/client.js';
import type { Caller } from './invoke.js';

/**
 * The identities the bench signs in as. Rate limits stay on and do their Redis work in every
 * handler the bench times, but each budget (per user and per source IP, `shared/rate-limits.ts`:
 * 300/min per user, 1,200/min per IP, 30/min per user for inventory queries) only sees its
 * share of the bench's requests: the bench spreads its calls over many callers, each a user
 * of its own with a source IP of its own.
 */

/** A caller that is a user of the database (`id`). */
export interface BenchCaller extends Caller {
  id: string;
}

let addresses = 0;

/**
 * A source IP no other caller of this process has: 198.18.0.1, 198.18.0.2, … in 198.18.0.0/15,
 * the range set aside for benchmarks (RFC 2544 § C.2.2; 131,070 addresses).
 */
export function benchSourceIp(): string {
  const n = ++addresses;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * Inserts `count` users with `role` (`password_hash` is not a hash: they never log in) and
 * returns them as callers, each with an access token and its own source IP.
 */
export async function createCallers(
  sql: Sql,
  count: number,
  role: 'user' | 'admin' = 'user',
): Promise<BenchCaller[]> {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const users = await sql<{ id: string }[]>`
    INSERT INTO users (email, password_hash, role)
    SELECT 'bench-' || ${run} || '-' || g || '@example.com', 'not-a-hash', ${role}
    FROM generate_series(1, ${count}) g
    RETURNING id`;
  return Promise.all(
    users.map(async ({ id }) => ({
      id,
      token: (await issueAccessToken({ id, role })).token,
      sourceIp: benchSourceIp(),
    })),
  );
}
