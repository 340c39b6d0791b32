/**
 * Typed application errors. Services throw these; the HTTP stack (`shared/http/problem.ts`)
 * maps each `kind` to a status code and an RFC 9457 problem body. They carry no HTTP
 * types so that domains stay free of HTTP.
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation'
  | 'rate_limited'
  | 'unavailable';

/** One field-level problem: `field` is a dotted path (`items.3.quantity`, `query.limit`). */
export interface FieldError {
  field: string;
  message: string;
  code: string;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly kind: ErrorKind,
    /** Safe for clients: becomes the problem `detail`. */
    message: string,
    readonly extra: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      /** Extension members of the problem body (RFC 9457 §3.2), e.g. `allowed`. */
      members?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
  }
}

export class BadRequest extends AppError {
  constructor(detail: string) {
    super('bad_request', detail);
  }
}
export class Unauthenticated extends AppError {
  /** `challenge` is the `WWW-Authenticate` value (RFC 6750 §3). */
  constructor(detail: string, challenge = 'Bearer') {
    super('unauthenticated', detail, { headers: { 'WWW-Authenticate': challenge } });
  }
}
export class Forbidden extends AppError {
  constructor(detail = 'You are not allowed to do this.') {
    super('forbidden', detail);
  }
}
export class NotFound extends AppError {
  constructor(detail = 'The resource does not exist.') {
    super('not_found', detail);
  }
}
export class MethodNotAllowed extends AppError {
  /** `allow` lists the methods the path supports (RFC 9110 §15.5.6). */
  constructor(allow: string[]) {
    super('method_not_allowed', `Use one of: ${allow.join(', ')}.`, {
      headers: { Allow: allow.join(', ') },
    });
  }
}
export class Conflict extends AppError {
  /** `members`: extension members of the problem body (RFC 9457 §3.2). */
  constructor(detail: string, members?: Record<string, unknown>) {
    super('conflict', detail, members ? { members } : {});
  }
}
export class PreconditionFailed extends AppError {
  constructor(detail = 'The resource has changed since you read it (If-Match).') {
    super('precondition_failed', detail);
  }
}
export class PayloadTooLarge extends AppError {
  constructor(limitBytes: number) {
    super('payload_too_large', `The body is larger than ${limitBytes} bytes.`);
  }
}
export class UnsupportedMediaType extends AppError {
  constructor(accepted: readonly string[]) {
    super('unsupported_media_type', `Send the body as ${accepted.join(' or ')}.`);
  }
}
export class ValidationFailed extends AppError {
  constructor(errors: FieldError[]) {
    super('validation', 'The request is not valid.', { errors });
  }
}
export class RateLimited extends AppError {
  /** `headers`: the RateLimit-* headers; `Retry-After` is added (RFC 9110 §10.2.3). */
  constructor(retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super('rate_limited', `Too many requests. Try again in ${retryAfterSeconds} s.`, {
      headers: { ...headers, 'Retry-After': String(retryAfterSeconds) },
    });
  }
}
export class ServiceUnavailable extends AppError {
  constructor(detail = 'A required service is unavailable. Try again shortly.') {
    super('unavailable', detail, { headers: { 'Retry-After': '5' } });
  }
}
