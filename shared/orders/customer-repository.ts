import { getSql, type Queryable } from '../db/client.js';
import { likePattern } from '../db/like-pattern.js';
import type { KeysetPosition } from '../keyset-cursor.js';
import type { TIERS } from './schemas.js';

export type Tier = (typeof TIERS)[number];

export interface CustomerRow {
  id: string;
  name: string;
  email: string;
  tier: Tier;
  user_id: string | null;
  active: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, email, tier, user_id, active, version, created_at, updated_at';

/**
 * Inserts a customer. Errors: unique violations `customers_email_key` (e-mail taken, any
 * case) and `customers_user_id_key` (the user has a customer); a foreign-key violation when
 * `user_id` names no user.
 */
export async function insertCustomer(
  sql: Queryable,
  customer: { name: string; email: string; tier: Tier; user_id: string | null },
): Promise<CustomerRow> {
  const [row] = await sql<CustomerRow[]>`
    INSERT INTO customers (name, email, tier, user_id)
    VALUES (${customer.name}, ${customer.email}, ${customer.tier}, ${customer.user_id})
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row as CustomerRow;
}

/** The customer with this id, or null. */
export async function findCustomer(
  id: string,
  sql: Queryable = getSql(),
): Promise<CustomerRow | null> {
  const [row] = await sql<CustomerRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM customers WHERE id = ${id}`;
  return row ?? null;
}

/** The customer linked to the user account `userId`, or null. */
export async function findCustomerOfUser(
  userId: string,
  sql: Queryable = getSql(),
): Promise<CustomerRow | null> {
  const [row] = await sql<CustomerRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM customers WHERE user_id = ${userId}`;
  return row ?? null;
}

/**
 * Changes the given fields in one statement when the version is one of `expected` (or always
 * when null); bumps `version` and `updated_at`. Null when nothing matched.
 * Errors: unique violation `customers_email_key`.
 */
export async function updateCustomer(
  sql: Queryable,
  id: string,
  changes: {
    name?: string | undefined;
    email?: string | undefined;
    tier?: Tier | undefined;
    active?: boolean | undefined;
  },
  expected: number[] | null,
): Promise<CustomerRow | null> {
  const [row] = await sql<CustomerRow[]>`
    UPDATE customers SET
      name = COALESCE(${changes.name ?? null}::text, name),
      email = COALESCE(${changes.email ?? null}::text, email),
      tier = COALESCE(${changes.tier ?? null}::text, tier),
      active = COALESCE(${changes.active ?? null}::boolean, active),
      version = version + 1,
      updated_at = now()
    WHERE id = ${id} ${expected ? sql`AND version = ANY(${expected}::int[])` : sql``}
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row ?? null;
}

/**
 * One keyset page of customers, newest first by (created_at, id), `limit + 1` rows; each
 * row's `sort_key` is its created_at as UTC text with microseconds (the cursor's value).
 */
export async function listCustomers(
  filters: { q: string | undefined; tier: Tier | undefined; active: boolean | null; limit: number },
  after: KeysetPosition | null,
  sql: Queryable = getSql(),
): Promise<(CustomerRow & { sort_key: string })[]> {
  return sql<(CustomerRow & { sort_key: string })[]>`
    SELECT ${sql.unsafe(COLUMNS)},
           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sort_key
    FROM customers
    WHERE true
      ${filters.q ? sql`AND (name ILIKE ${likePattern(filters.q)} OR email ILIKE ${likePattern(filters.q)})` : sql``}
      ${filters.tier ? sql`AND tier = ${filters.tier}` : sql``}
      ${filters.active === null ? sql`` : sql`AND active = ${filters.active}`}
      ${after ? sql`AND (created_at, id) < (${after.value}::text::timestamptz, ${after.id}::uuid)` : sql``}
    ORDER BY created_at DESC, id DESC
    LIMIT ${filters.limit + 1}`;
}

/** The e-mail address of the user account `userId`, or null. */
export async function accountEmail(
  userId: string,
  sql: Queryable = getSql(),
): Promise<string | null> {
  const [row] = await sql<{ email: string }[]>`SELECT email FROM users WHERE id = ${userId}`;
  return row?.email ?? null;
}
