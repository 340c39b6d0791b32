import { addAuditEvent } from '../audit/events.js';
import type { Principal } from '../auth/tokens.js';
import {
  isForeignKeyViolation,
  isUniqueViolation,
  type TransactionSql,
  withTransaction,
} from '../db/client.js';
import { Conflict, NotFound, PreconditionFailed, ValidationFailed } from '../errors.js';
import { decodeKeysetCursor, keysetPage, timestampValue } from '../keyset-cursor.js';
import { publishNow } from '../queue/outbox.js';
import * as repository from './customer-repository.js';
import type {
  CreateCustomerBody,
  Customer,
  CustomerPage,
  ListCustomersQuery,
  PatchCustomerBody,
  PutMyCustomerBody,
} from './schemas.js';

const NOT_FOUND = 'No customer with this id.';
const EMAIL_TAKEN = 'A customer with this e-mail exists.';

/** A customer row as the API shows it. */
export function toCustomer(row: repository.CustomerRow): Customer {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    tier: row.tier,
    user_id: row.user_id,
    active: row.active,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** Runs `write` (which returns the row it changed) and audits it as `action`, in one transaction. */
async function audited(
  actor: Principal,
  action: 'customer.created' | 'customer.updated',
  write: (tx: TransactionSql) => Promise<repository.CustomerRow | null>,
  metadata: Record<string, unknown> = {},
): Promise<repository.CustomerRow | null> {
  try {
    const result = await withTransaction(async (tx) => {
      const row = await write(tx);
      if (!row) return null;
      const eventId = await addAuditEvent(tx, {
        action,
        actorId: actor.userId,
        resourceType: 'customer',
        resourceId: row.id,
        metadata: { ...metadata, version: row.version },
      });
      return { row, eventId };
    });
    if (!result) return null;
    await publishNow([result.eventId]);
    return result.row;
  } catch (error) {
    if (isUniqueViolation(error, 'customers_email_key')) throw new Conflict(EMAIL_TAKEN);
    if (isUniqueViolation(error, 'customers_user_id_key')) {
      throw new Conflict('This user account is already linked to a customer.');
    }
    throw error;
  }
}

/** The caller's own customer profile. Errors: `NotFound` when they have none yet. */
export async function getMyCustomer(caller: Principal): Promise<Customer> {
  const row = await repository.findCustomerOfUser(caller.userId);
  if (!row) {
    throw new NotFound(
      'You have no customer profile yet. Create it with PUT /api/v1/customers/me.',
    );
  }
  return toCustomer(row);
}

/**
 * Creates (`created: true`) or updates the caller's own customer profile; the e-mail
 * defaults to the account's on creation. Audits `customer.created` / `customer.updated`.
 * `expected`: the versions `If-Match` accepts (null: none).
 * Errors: `Conflict` (409) when the e-mail belongs to another customer; `PreconditionFailed`
 * (412) when the version is stale or there is no profile to match; `NotFound` when the
 * account no longer exists.
 */
export async function putMyCustomer(
  caller: Principal,
  body: PutMyCustomerBody,
  expected: number[] | null = null,
): Promise<{ customer: Customer; created: boolean }> {
  const existing = await repository.findCustomerOfUser(caller.userId);
  if (existing) {
    const row = await audited(caller, 'customer.updated', (tx) =>
      repository.updateCustomer(tx, existing.id, { name: body.name, email: body.email }, expected),
    );
    if (!row) throw new PreconditionFailed();
    return { customer: toCustomer(row), created: false };
  }
  // If-Match names a version of a profile that does not exist (RFC 9110 §13.1.1).
  if (expected) throw new PreconditionFailed();
  const email = body.email ?? (await repository.accountEmail(caller.userId));
  if (!email) throw new NotFound('The account no longer exists.');
  try {
    const row = await audited(caller, 'customer.created', (tx) =>
      repository.insertCustomer(tx, {
        name: body.name,
        email,
        tier: 'free',
        user_id: caller.userId,
      }),
    );
    return { customer: toCustomer(row as repository.CustomerRow), created: true };
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new NotFound('The account no longer exists.');
    // A concurrent PUT of the same user created the profile first: this one updates it.
    if (error instanceof Conflict && (await repository.findCustomerOfUser(caller.userId))) {
      return putMyCustomer(caller, body, expected);
    }
    throw error;
  }
}

/**
 * Creates a customer (admins), optionally linked to a user account; audits `customer.created`.
 * Errors: `Conflict` (409) when the e-mail is taken or the user already has a customer;
 * `ValidationFailed` (422 on `user_id`) when no such user exists.
 */
export async function createCustomer(
  actor: Principal,
  body: CreateCustomerBody,
): Promise<Customer> {
  try {
    const row = await audited(actor, 'customer.created', (tx) =>
      repository.insertCustomer(tx, {
        name: body.name,
        email: body.email,
        tier: body.tier,
        user_id: body.user_id ?? null,
      }),
    );
    return toCustomer(row as repository.CustomerRow);
  } catch (error) {
    if (isForeignKeyViolation(error)) {
      throw new ValidationFailed([
        { field: 'user_id', message: 'No user account with this id.', code: 'unknown_user' },
      ]);
    }
    throw error;
  }
}

/**
 * A customer for an admin or for the user linked to it; anyone else gets `NotFound`, as for
 * a customer that does not exist.
 */
export async function getCustomer(caller: Principal, id: string): Promise<Customer> {
  const row = await repository.findCustomer(id);
  if (!row || (caller.role !== 'admin' && row.user_id !== caller.userId)) {
    throw new NotFound(NOT_FOUND);
  }
  return toCustomer(row);
}

/**
 * Changes a customer (admins; optionally only at the `expected` versions, `If-Match`);
 * `active: false` blocks new orders. Audits `customer.updated` with the changes.
 * Errors: `NotFound`; `PreconditionFailed` (412); `Conflict` (409) when the e-mail is taken.
 */
export async function updateCustomer(
  actor: Principal,
  id: string,
  changes: PatchCustomerBody,
  expected: number[] | null,
): Promise<Customer> {
  const row = await audited(
    actor,
    'customer.updated',
    (tx) => repository.updateCustomer(tx, id, changes, expected),
    { changes },
  );
  if (row) return toCustomer(row);
  if (!(await repository.findCustomer(id))) throw new NotFound(NOT_FOUND);
  throw new PreconditionFailed();
}

/**
 * One page of customers, newest first (keyset); `q` on name or e-mail, `tier`, `active`.
 * Errors: `BadRequest` for a malformed cursor or one from other filters.
 */
export async function listCustomers(query: ListCustomersQuery): Promise<CustomerPage> {
  const active = { true: true, false: false, all: null }[query.active];
  const filters = [query.q ?? null, query.tier ?? null, active];
  const after = query.cursor ? decodeKeysetCursor(filters, query.cursor, timestampValue) : null;
  const rows = await repository.listCustomers(
    { q: query.q, tier: query.tier, active, limit: query.limit },
    after,
  );
  const page = keysetPage(rows, query.limit, filters, (row) => row.sort_key);
  return { items: page.rows.map(toCustomer), limit: query.limit, next_cursor: page.next_cursor };
}
