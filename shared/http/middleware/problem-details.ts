import {
  AppError,
  BadRequest,
  type ErrorKind,
  UnsupportedMediaType,
  ValidationFailed,
} from '../../errors.js';
import { errorToProblem, STATUS_OF_KIND } from '../problem.js';
import { requestIdFrom } from './request-context.js';
import type { Middleware } from './types.js';

/** What `@middy/util`'s `createError` throws: an `HttpError` with `statusCode` and `expose`. */
interface MiddyHttpError extends Error {
  statusCode: number;
  cause?: { package?: string; data?: unknown; message?: string };
}

function isMiddyHttpError(error: unknown): error is MiddyHttpError {
  const cause = (error as MiddyHttpError | null)?.cause;
  return (
    error instanceof Error &&
    typeof (error as MiddyHttpError).statusCode === 'number' &&
    typeof cause?.package === 'string' &&
    cause.package.startsWith('@middy/')
  );
}

/**
 * The errors of the official middy middlewares in this API's terms (API.md § Errors): the
 * JSON body parser answers malformed JSON with 422 (v7; 415 before) where the contract says
 * 400 (and well-formed JSON too deep for its reviver is a 422 `too_deep`), a `__proto__` or `constructor.prototype` key with a bare 422 that becomes a field
 * error (`forbidden_key`), and an unsupported content type with a 415 that names nothing.
 * Any other middy 4xx keeps its status and message (middy's are written for clients) when
 * this API has a kind for that status, else it becomes a 400. Returns undefined for errors
 * that are not middy's and for middy's 5xx (left to `errorToProblem`: a bare 500).
 */
export function fromMiddyError(error: unknown): AppError | undefined {
  if (!isMiddyHttpError(error)) return undefined;
  if (error.message === 'Invalid or malformed JSON was provided') {
    // V8 parses the whole text before it runs the parser's reviver, so a stack overflow in
    // the reviver means well-formed JSON nested deeper than any schema here: refused as such.
    if (/call stack/i.test(error.cause?.message ?? '')) {
      return new ValidationFailed([
        { field: 'body', code: 'too_deep', message: 'The body is nested too deeply.' },
      ]);
    }
    return new BadRequest('The body is not valid JSON.');
  }
  if (error.message === 'Forbidden key in JSON body') {
    const key = String(error.cause?.data ?? '__proto__');
    return new ValidationFailed([
      { field: key, code: 'forbidden_key', message: `The key "${key}" is not allowed.` },
    ]);
  }
  if (error.statusCode === 415) return new UnsupportedMediaType(['application/json (UTF-8)']);
  if (error.statusCode >= 400 && error.statusCode < 500) {
    const kind = KIND_OF_STATUS.get(error.statusCode);
    return kind ? new AppError(kind, error.message) : new BadRequest(error.message);
  }
  return undefined;
}

const KIND_OF_STATUS = new Map(
  (Object.entries(STATUS_OF_KIND) as [ErrorKind, number][]).map(([kind, status]) => [status, kind]),
);

/**
 * Maps any error thrown in the stack or the handler to an `application/problem+json`
 * response with the request id (RFC 9457; `errorToProblem` for the rules, `fromMiddyError`
 * for middy's own errors). Put it after the middlewares whose `onError` must see the final
 * response (tracing, the deadline, the security headers) and before the header normaliser
 * and the checks: middy runs `onError` in reverse order, so it maps the error first.
 */
export function problemDetails(): Middleware {
  return {
    onError: (request) => {
      const requestId =
        request.context.requestState?.requestId ?? requestIdFrom(request.event.headers);
      request.response = errorToProblem(fromMiddyError(request.error) ?? request.error, {
        requestId,
        instance: request.event.rawPath ?? '/',
      });
    },
  };
}
