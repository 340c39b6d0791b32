import { type TransactionSql, withTransaction } from './client.js';

/**
 * Work a service's caller runs inside the service's write transaction: the HTTP stack's
 * idempotency keys use it to lock and check the key before the write and to record the
 * response in the same commit as the write (API.md § Idempotency keys). Platform code: it
 * knows no HTTP and no domain.
 */
export interface TransactionHooks<T> {
  /** First statements of the transaction, before the write; may throw to abort it. */
  begin(tx: TransactionSql): Promise<void>;
  /** Last statements, after the write, with its result; may throw to roll it back. */
  commit(tx: TransactionSql, result: T): Promise<void>;
}

/**
 * Runs `write` in one transaction with `hooks` around it: `hooks.begin(tx)`, then
 * `write(tx)`, then `hooks.commit(tx, result)`, then COMMIT; anything that throws rolls the
 * whole transaction back and the error propagates. Without hooks, `write` still runs in one
 * transaction. Returns the write's result once committed.
 */
export function withTransactionHooks<T>(
  write: (tx: TransactionSql) => Promise<T>,
  hooks: TransactionHooks<T> | undefined,
): Promise<T> {
  return withTransaction(async (tx) => {
    await hooks?.begin(tx);
    const result = await write(tx);
    await hooks?.commit(tx, result);
    return result;
  });
}
