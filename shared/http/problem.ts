import { STATUS_CODES } from 'node:http';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isDatabaseUnavailable, isDataException } from '../db/errors.js';
import { AppError, type ErrorKind, type FieldError } from '../errors.js';
import { logger } from '../logger.js';

/** Status code of each error kind. */
export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation: 422,
  rate_limited: 429,
  unavailable: 503,
};

/** Problem details body (RFC 9457 §3) plus this API's `request_id` and field `errors`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Builds an `application/problem+json` response (RFC 9457). `type` is `about:blank`, so
 * `title` is the status phrase (RFC 9457 §4.2.1); `detail` says what to do; `extra.members`
 * are extension members (RFC 9457 §3.2, e.g. `allowed` of a refused order move).
 */
export function problemResponse(
  status: number,
  detail: string,
  context: { requestId: string; instance: string },
  extra: {
    errors?: FieldError[];
    headers?: Record<string, string>;
    members?: Record<string, unknown>;
  } = {},
): APIGatewayProxyStructuredResultV2 {
  const body: ProblemDetails = {
    // Extension members first (RFC 9457 §3.2): they never replace a standard member.
    ...extra.members,
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance: context.instance,
    request_id: context.requestId,
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
  return {
    statusCode: status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...extra.headers },
    body: JSON.stringify(body),
  };
}

/**
 * Maps any thrown value to a problem response: `AppError` by its kind, an unreachable
 * database or an imminent Lambda timeout to 503, a value PostgreSQL refused (SQLSTATE class 22) to 422, anything else to a 500 that says nothing about the cause (OWASP Error
 * Handling Cheat Sheet); the cause goes to the log only.
 */
export function errorToProblem(
  error: unknown,
  context: { requestId: string; instance: string },
): APIGatewayProxyStructuredResultV2 {
  if (error instanceof AppError) {
    return problemResponse(STATUS_OF_KIND[error.kind], error.message, context, error.extra);
  }
  if (isDatabaseUnavailable(error)) {
    logger.error('database unavailable', { error: error as Error });
    return problemResponse(503, 'The database is unavailable. Try again shortly.', context, {
      headers: { 'Retry-After': '5' },
    });
  }
  if (isDataException(error)) {
    // A validation rule is missing somewhere: the input reached SQL. Still the client's value.
    logger.warn('data exception from PostgreSQL', { error: error as Error });
    return problemResponse(422, 'A value is outside the range the API accepts.', context);
  }
  if ((error as Error | null)?.name === 'TimeoutError') {
    // middy's timeoutEarly: the Lambda is about to hit its timeout (AWS docs, Lambda timeouts).
    logger.error('function timeout', { error: error as Error });
    return problemResponse(503, 'The request took too long. Try again shortly.', context, {
      headers: { 'Retry-After': '5' },
    });
  }
  logger.error('unhandled error', { error: error as Error });
  return problemResponse(500, 'An unexpected error occurred.', context);
}
