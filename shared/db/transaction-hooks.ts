import { type TransactionSql, withTransaction } from './client.js';

/**
 * Work a service's caller runs inside the service's write transaction: the HTTP stack's
 * idempotency keys use it to lock and check the key before the write and to record the
 * response in the same commit as the write, or, when the write fails on a business rule,
 * in the same transaction as the write's rollback (API.md § Idempotency keys). Platform
 * code: it knows no HTTP and no domain.
 */
export interface TransactionHooks<T> {
  /** First statements of the transaction, before the write; may throw to abort it. */
  begin(tx: TransactionSql): Promise<void>;
  /** Last statements, after the write, with its result; may throw to roll it back. */
  commit(tx: TransactionSql, result: T): Promise<void>;
  /**
   * Called when the write threw `error`, after the write was rolled back to its savepoint
   * (what `begin` did stays). Returns true to keep the transaction (with what this hook
   * wrote) and COMMIT it before `error` propagates; false to roll everything back.
   */
  failed(tx: TransactionSql, error: unknown): Promise<boolean>;
}

/** Why a write failed, carried out of a transaction that still commits. */
class Failed {
  constructor(readonly error: unknown) {}
}

/**
 * Runs `write` in one transaction with `hooks` around it: `hooks.begin(tx)`, then `write`
 * in a savepoint (postgres.js `tx.savepoint`: SAVEPOINT … RELEASE, ROLLBACK TO SAVEPOINT when
 * it throws), then `hooks.commit(tx, result)`, then COMMIT. When the write throws,
 * `hooks.failed(tx, error)` runs after the rollback to the savepoint: true commits the rest
 * of the transaction and then rethrows the write's error; false (or a throw of `begin`,
 * `commit` or `failed`) rolls the whole transaction back and the error propagates. Without
 * hooks, `write` runs in one transaction with no savepoint. Returns the write's result once
 * committed.
 */
export async function withTransactionHooks<T>(
  write: (tx: TransactionSql) => Promise<T>,
  hooks: TransactionHooks<T> | undefined,
): Promise<T> {
  if (!hooks) return withTransaction(write);
  const outcome = await withTransaction(async (tx): Promise<T | Failed> => {
    await hooks.begin(tx);
    let result: T;
    try {
      result = (await tx.savepoint((sp) => write(sp))) as T;
    } catch (error) {
      if (await hooks.failed(tx, error)) return new Failed(error);
      throw error;
    }
    await hooks.commit(tx, result);
    return result;
  });
  if (outcome instanceof Failed) throw outcome.error;
  return outcome;
}
