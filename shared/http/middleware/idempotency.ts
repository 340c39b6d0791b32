import { createHash } from 'node:crypto';
import { getSql, type TransactionSql } from '../../db/client.js';
import {
  findIdempotencyRecord,
  type IdempotencyKeyId,
  type IdempotencyRecord,
  insertIdempotencyRecord,
  tryLockIdempotencyKey,
} from '../../db/idempotency-keys.js';
import type { TransactionHooks } from '../../db/transaction-hooks.js';
import { AppError } from '../../errors.js';
import { logger } from '../../logger.js';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_PATTERN,
  IDEMPOTENT_REPLAYED_HEADER,
} from '../idempotency-key.js';
import { errorToProblem, PROBLEM_CONTENT_TYPE } from '../problem.js';
import { type ReplyLike, toResult } from '../reply.js';
import type { HttpResult, IdempotencyState, Middleware, StackRequest } from './types.js';

/** Error code (in the 422's `errors`) of a key reused with another request. */
export const IDEMPOTENCY_KEY_REUSED_CODE = 'idempotency_key_reused';

const FIELD = `header.${IDEMPOTENCY_KEY_HEADER}`;

/** The errors this module raises itself: never recorded as a business-rule answer. */
const ownErrors = new WeakSet<object>();
function own<E extends Error>(error: E): E {
  ownErrors.add(error);
  return error;
}

/** 400: the header is empty, longer than 255 or has a character outside U+0020–U+007E. */
function invalidKey(): AppError {
  return own(
    new AppError(
      'bad_request',
      'The Idempotency-Key header must be 1–255 printable ASCII characters (U+0020–U+007E).',
    ),
  );
}

/** 422: the key was used before with a request of another method, path or body. */
function keyReused(): AppError {
  const detail =
    'This Idempotency-Key was already used with a different request. Use a new key for a new request.';
  return own(
    new AppError('validation', detail, {
      errors: [{ field: FIELD, message: detail, code: IDEMPOTENCY_KEY_REUSED_CODE }],
    }),
  );
}

/** 409: another request with the key holds its lock (draft-ietf-httpapi-idempotency-key-header §2.7). */
function keyInProgress(): AppError {
  return own(
    new AppError(
      'conflict',
      'A request with this Idempotency-Key is still in progress. Retry once it has finished.',
    ),
  );
}

/**
 * Thrown by the `begin` hook inside the write's transaction when a request with the same key
 * committed its record meanwhile: it rolls the transaction back, and the middleware answers
 * from that record (replay, or 422). Internal: services must let it propagate.
 */
class RecordedMeanwhile extends Error {
  override name = 'RecordedMeanwhile';
  constructor(readonly record: IdempotencyRecord) {
    super('A request with this Idempotency-Key has been recorded meanwhile.');
  }
}

/**
 * JSON text of `value` with the keys of every object sorted (code unit order), at every
 * depth: the same for any key order or whitespace of the JSON it was decoded from. Arrays
 * keep their order. `undefined` (no body) is `null`.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    // No prototype: a `__proto__` key stays an own property (JSON.parse makes it one).
    const sorted: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(item).sort())
      sorted[key] = (item as Record<string, unknown>)[key];
    return sorted;
  });
}

/**
 * The fingerprint of a request: SHA-256 (hex) of its method, its path as sent (`rawPath`) and
 * its decoded body in canonical JSON (`canonicalJson`; the body before validation applies
 * defaults). Two requests with one key are "the same request" when their fingerprints match.
 */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([method, path]))
    .update('\n')
    .update(canonicalJson(body))
    .digest('hex');
}

/**
 * The response of `record` as a replay: its status, headers and body, plus
 * `Idempotent-Replayed: true`. A problem body gets this request's `request_id`, so that it
 * still matches `X-Request-ID` (API.md § Conventions); the rest of it is as stored.
 */
function replayOf(record: IdempotencyRecord, requestId: string): HttpResult {
  let body = record.body ?? undefined;
  const type = Object.entries(record.headers).find(
    ([name]) => name.toLowerCase() === 'content-type',
  );
  if (body !== undefined && type?.[1] === PROBLEM_CONTENT_TYPE) {
    try {
      body = JSON.stringify({ ...(JSON.parse(body) as object), request_id: requestId });
    } catch {
      // Stored by this module, so always JSON; kept as is otherwise.
    }
  }
  return {
    statusCode: record.status,
    headers: { ...record.headers, [IDEMPOTENT_REPLAYED_HEADER]: 'true' },
    ...(body === undefined ? {} : { body }),
  };
}

/** What a recorded key answers a request of `fingerprint`: its replay, or 422 (thrown). */
function answerFrom(record: IdempotencyRecord, fingerprint: string, requestId: string): HttpResult {
  if (record.fingerprint !== fingerprint) throw keyReused();
  return replayOf(record, requestId);
}

/** A 409 or 422 the handler's business rules raised (not this module's own). */
function isBusinessRuleError(error: unknown): error is AppError {
  return (
    error instanceof AppError &&
    !ownErrors.has(error) &&
    (error.kind === 'conflict' || error.kind === 'validation')
  );
}

/**
 * Idempotency keys (draft-ietf-httpapi-idempotency-key-header; API.md § Idempotency keys) for
 * the route `route` (`"POST /api/v1/orders"`: method and path template), after validation and
 * before the handler, on authenticated routes that declare `idempotency: true`.
 *
 * - No `Idempotency-Key` header: nothing happens (`input.idempotency` is undefined).
 * - A key that is not 1–255 characters of U+0020–U+007E: `AppError` bad_request (400).
 * - The key (scoped to the caller's user id and the route) has a record: the same request
 *   (`requestFingerprint`) gets the stored status, headers and body again, with
 *   `Idempotent-Replayed: true`, without running the handler; another request gets 422 (code
 *   `idempotency_key_reused`).
 * - Else the handler gets `input.idempotency.hooks(render)` for its service's transaction:
 *   `begin` takes the key's advisory lock without waiting (held by another transaction: 409)
 *   and, if a record committed meanwhile, rolls back and
 *   answers from it as above; `commit` inserts the record with `render(result)` as the stored
 *   response, in the write's own transaction; `failed` stores a 409 or 422 business-rule
 *   error the write raised as the record instead, in the same transaction, after the write
 *   was rolled back to its savepoint (`withTransactionHooks`), so it replays. Any other
 *   outcome (5xx, other errors, refusals before this middleware) stores nothing.
 */
export function idempotency(route: string): Middleware {
  return {
    before: async (request) => {
      const key = request.event.headers?.[IDEMPOTENCY_KEY_HEADER];
      if (key === undefined) return;
      if (!IDEMPOTENCY_KEY_PATTERN.test(key)) throw invalidKey();
      const state = request.context.requestState;
      const scope = state.principal?.userId;
      if (!scope) throw new Error(`${route}: idempotency keys need an authenticated caller`);
      const id: IdempotencyKeyId = { scope, route, key };
      const fingerprint = requestFingerprint(
        request.event.requestContext?.http?.method ?? route.split(' ', 1)[0] ?? '',
        request.event.rawPath ?? '',
        state.body,
      );
      const found = await findIdempotencyRecord(getSql(), id);
      const replay = found ? answerFrom(found, fingerprint, state.requestId) : undefined;
      state.idempotency = keyedRequest(request, id, fingerprint, replay);
    },
  };
}

/** The `IdempotencyState` of a request whose key `id` had no record (or `replay`). */
function keyedRequest(
  request: StackRequest,
  id: IdempotencyKeyId,
  fingerprint: string,
  replay: HttpResult | undefined,
): IdempotencyState {
  const { requestId } = request.context.requestState;
  /** `begin` took the lock and found no record: the write may happen. */
  let armed = false;
  /** `commit` or `failed` inserted the record (it commits, or rolls back, with the write). */
  let recorded = false;
  const hooks = (render: (result: unknown) => ReplyLike): TransactionHooks<unknown> => ({
    begin: async (tx: TransactionSql) => {
      if (!(await tryLockIdempotencyKey(tx, id))) throw keyInProgress();
      const existing = await findIdempotencyRecord(tx, id);
      if (existing) throw new RecordedMeanwhile(existing);
      armed = true;
    },
    commit: async (tx: TransactionSql, result: unknown) => {
      const response = toResult(render(result));
      const inserted = await insertIdempotencyRecord(tx, id, {
        fingerprint,
        status: response.statusCode ?? 200,
        headers: response.headers,
        body: response.body ?? null,
      });
      // Only a request holding the key's lock inserts, after checking there was none.
      if (!inserted) throw new Error('idempotency key recorded twice under its lock');
      recorded = true;
    },
    failed: async (tx: TransactionSql, error: unknown) => {
      if (!armed || !isBusinessRuleError(error)) return false;
      const problem = errorToProblem(error, { requestId, instance: request.event.rawPath ?? '/' });
      const inserted = await insertIdempotencyRecord(tx, id, {
        fingerprint,
        status: problem.statusCode as number,
        headers: problem.headers as Record<string, string>,
        body: problem.body ?? null,
      });
      if (!inserted) throw new Error('idempotency key recorded twice under its lock');
      recorded = true;
      return true;
    },
  });
  return {
    input: { key: id.key, hooks },
    run: async (call) => {
      if (replay) return replay;
      try {
        const result = await call();
        if (!recorded) {
          logger.warn('an idempotent route answered without recording its key', {
            route: id.route,
            status: result.statusCode,
          });
        }
        return result;
      } catch (error) {
        if (error instanceof RecordedMeanwhile) {
          return answerFrom(error.record, fingerprint, requestId);
        }
        throw error;
      }
    },
  };
}
