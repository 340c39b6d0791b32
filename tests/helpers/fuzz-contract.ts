/**
 * The oracle of the fuzz suite: from the bytes of a request alone (and who sends it), what
 * the HTTP contract lets the server answer; and the check of one response against that.
 *
 * The expectation mirrors the documented request path (API.md § Conventions; the middleware
 * order of `createHandler`): the gateway routes on the raw path (no dot-segment removal,
 * `HEAD` like `GET`) and refuses a request line plus header values over 10,240 bytes (431),
 * then authentication (401, 403 for a non-admin on an admin route), then the body (413 over
 * 1 MiB, 415 for another media type or a charset other than UTF-8, 400 for JSON that does not
 * parse; bytes that are not UTF-8 may be a 400 or read as U+FFFD), then the route's zod
 * schemas for path, query, declared headers and body (422; U+0000 anywhere may be refused
 * too), then the handler. Wherever the route's schemas accept every input, a 422 is wrong.
 */
import type { IncomingHttpHeaders } from 'node:http';
import * as core from 'zod/v4/core';
import { errorStatuses } from '../../shared/docs/openapi.js';
import type { RouteDefinition } from '../../shared/http/route.js';
import { Problem } from '../../shared/http/schemas.js';
import { fallbackRoute, resolveRoute, routes } from '../../shared/routes/index.js';
import type { WireRequest, WireResponse } from './fuzz-http.js';

/**
 * Who sends a request. `deleted account`: a valid token whose user no longer exists (an
 * account removed while its token is still live, at most 15 minutes): authenticated, so the
 * route runs, and must answer what it declares.
 */
export type Caller =
  | 'anonymous'
  | 'user'
  | 'admin'
  | 'garbage token'
  | 'expired or tampered token'
  | 'deleted account';

export const CALLERS: readonly Caller[] = [
  'anonymous',
  'user',
  'admin',
  'garbage token',
  'expired or tampered token',
  'deleted account',
];

/** A status the contract requires beyond what the oracle works out from the bytes. */
export interface Rule {
  /** `validation`: once the body decoded; `handler`: once every schema passed. */
  stage: 'validation' | 'handler';
  statuses: number[];
  why: string;
}

/** What a generated request is and what it asks of the server, beyond its bytes. */
export interface Generated {
  wire: WireRequest;
  /** What was generated: `valid`, or the mutation (`body: wrong type at items.0.quantity`). */
  label: string;
  rule?: Rule;
  /** Statuses that are also acceptable (the contract leaves the choice to the server). */
  alsoAllowed?: number[];
  /** The contract does not pin the outcome (only the general invariants apply). */
  lenient?: boolean;
}

/** What the server may answer to one request. */
export interface Expectation {
  /** The route that must answer (the fallback when no route matches). */
  route: RouteDefinition;
  routeName: string;
  /** Every status the route declares, plus gateway statuses this request may get. */
  declared: Set<number>;
  /** When set, the status must be one of these. */
  required?: number[];
  reason: string;
  /** Every input is valid per the route's schemas: a 422 is wrong. */
  forbid422: boolean;
  /**
   * Even so, a 422 whose every `errors[].code` is one of these is right: the handler's rules
   * over stored data or across fields, which no schema states (set by the suite per route).
   */
  handler422Codes?: readonly string[];
  /** The `Allow` header a 405 must carry. */
  allow?: string;
  /**
   * The client's valid `X-Request-ID` must come back. Not for a request-target the HTTP
   * parser refuses before any header is read (bytes outside visible ASCII).
   */
  echoRequestId: boolean;
  /** The parts the route's own schemas refuse (path, query, header, body), if any. */
  refusedBySchema: string[];
  /** What the route's schemas make of the request (defaults applied), when they accept it. */
  parsed?: ParsedInput;
}

/** The outputs of a route's request schemas for one request. */
export interface ParsedInput {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

/** "Total combined size of request line and header values" of HTTP APIs (AWS quotas). */
export const GATEWAY_HEADER_QUOTA_BYTES = 10_240;
/**
 * Largest response a Lambda function may return to API Gateway: 6 MB (AWS Lambda quotas,
 * "Invocation payload (request and response)"); a bigger one is a 5xx in AWS, though the
 * local gateway passes it on.
 */
export const LAMBDA_RESPONSE_MAX_BYTES = 6 * 1024 * 1024;
/** Bytes either side of the header quota where our count of it is not trusted. */
const QUOTA_MARGIN = 32;
/** Largest request body, in bytes (API.md: 413 over 1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
/** Headers Node keeps once (the first value) when repeated; the others are joined with ", ". */
const SINGLE_VALUED = new Set([
  'content-type',
  'content-length',
  'authorization',
  'host',
  'user-agent',
]);
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** What a problem body must never show: stack frames, SQL or driver text (OWASP Error Handling). */
const LEAK =
  /\bat .*\.(ts|js|mjs):\d+|node_modules|SQLSTATE|syntax error at|violates .* constraint|invalid input (syntax|value)|out of range for type|ECONNREFUSED|TypeError|ReferenceError/i;

const NAME_OF = new Map<RouteDefinition, string>(
  Object.entries(routes).map(([name, route]) => [route as RouteDefinition, name]),
);

/** The name of a route in the table (`fallback` for the `$default` route). */
export function routeName(route: RouteDefinition): string {
  return NAME_OF.get(route) ?? (route === fallbackRoute ? 'fallback' : route.path);
}

/**
 * Every status `route` declares: its success statuses and the error statuses the OpenAPI
 * generator documents for it (`errorStatuses`). The fallback also answers 404 and 405, which
 * its summary names (it is hidden from the document).
 */
export function declaredStatuses(route: RouteDefinition): Set<number> {
  const statuses = new Set([...Object.keys(route.responses).map(Number), ...errorStatuses(route)]);
  if (route === fallbackRoute) for (const status of [404, 405]) statuses.add(status);
  return statuses;
}

/** The header as the server sees it: Node trims values and joins repeats with ", ". */
export function headerValue(headers: WireRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return value.trim();
  if (SINGLE_VALUED.has(name)) return value[0]?.trim();
  return value.map((item) => item.trim()).join(', ');
}

/** Splits an origin-form or absolute-form request-target (RFC 9112 §3.2), raw; else null. */
export function splitTarget(target: string): { path: string; query: string } | null {
  let rest = target;
  if (!rest.startsWith('/')) {
    const authority = /^https?:\/\/[^/?#\s]+/i.exec(rest);
    if (!authority) return null;
    rest = rest.slice(authority[0].length) || '/';
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  const mark = rest.indexOf('?');
  return mark === -1
    ? { path: rest, query: '' }
    : { path: rest.slice(0, mark), query: rest.slice(mark + 1) };
}

/** Query parameters as API Gateway hands them over: decoded, repeated values joined by ",". */
export function gatewayQuery(rawQuery: string): Record<string, string> {
  const params = new URLSearchParams(rawQuery);
  const query: Record<string, string> = {};
  for (const key of new Set(params.keys())) query[key] = params.getAll(key).join(',');
  return query;
}

/** Whether a string or an object key anywhere in `value` holds U+0000 (iterative: deep is fine). */
export function containsNul(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length) {
    const current = pending.pop();
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return true;
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        if (key.includes('\u0000')) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

/**
 * `charset` of a Content-Type value, lower-cased and unquoted (RFC 9110 §8.3.1, §5.6.6). The
 * oracle's own reading, not the stack's `charsetOf`, so a bug there cannot pass as expected.
 */
function charsetOf(contentType: string): string | undefined {
  for (const parameter of contentType.split(';').slice(1)) {
    const at = parameter.indexOf('=');
    if (at < 0 || parameter.slice(0, at).trim().toLowerCase() !== 'charset') continue;
    return parameter
      .slice(at + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return undefined;
}

/**
 * A form body's fields: a field sent more than once becomes the list of its values (so the
 * schema refuses it: RFC 6749 §3.1, parameters MUST NOT be included more than once).
 */
function formFields(text: string): Record<string, string | string[]> {
  // No prototype, as node:querystring's result (a `__proto__` field is then a plain field).
  const fields: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = Object.hasOwn(fields, key) ? fields[key] : undefined;
    fields[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return fields;
}

/** Bytes API Gateway counts against its header quota (request line + header values). */
export function headerQuotaBytes(wire: WireRequest, hostHeader: string): number {
  let size = Buffer.byteLength(`${wire.method} ${wire.target} HTTP/1.1`);
  size += Buffer.byteLength(hostHeader) + 'keep-alive'.length;
  if (wire.body) size += String(wire.body.length).length;
  for (const value of Object.values(wire.headers))
    for (const item of Array.isArray(value) ? value : [value])
      size += Buffer.byteLength(item, 'latin1');
  return size;
}

/** A decoded body; `notUtf8` when its bytes are not UTF-8 (then read with U+FFFD for them). */
type Decoded = { value: unknown; notUtf8?: boolean } | { status: number; why: string };

function decodeBody(route: RouteDefinition, wire: WireRequest): Decoded {
  const request = route.request ?? {};
  const bytes = wire.body ?? Buffer.alloc(0);
  if (bytes.length === 0) return { value: undefined };
  if (bytes.length > MAX_BODY_BYTES) return { status: 413, why: 'a body over 1 MiB' };
  const contentType = headerValue(wire.headers, 'content-type') ?? '';
  const mediaType = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  const json =
    Boolean(request.body) &&
    (mediaType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mediaType));
  const form = Boolean(request.form) && mediaType === 'application/x-www-form-urlencoded';
  const charset = charsetOf(contentType);
  if (!json && !form) return { status: 415, why: `media type "${mediaType}" is not accepted` };
  if (charset !== undefined && charset !== 'utf-8')
    return { status: 415, why: `charset "${charset}" is not UTF-8` };
  // Bytes that are not UTF-8: the server may refuse them (400) or, as the gateway hands text
  // bodies to the function as a UTF-8 string, read them as U+FFFD. Both are checked.
  let notUtf8 = false;
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    notUtf8 = true;
    text = bytes.toString('utf8');
  }
  if (form) return { value: formFields(text), notUtf8 };
  try {
    return { value: JSON.parse(text), notUtf8 };
  } catch {
    return { status: 400, why: 'the body is not JSON' };
  }
}

function accepts(schema: core.$ZodType | undefined, value: unknown): boolean {
  return !schema || core.safeParse(schema, value).success;
}

/**
 * What the server may answer to `generated` sent by `caller` (see the module comment).
 * `hostHeader` is the `Host` the client sends (it counts against the header quota).
 */
export function expectOutcome(
  generated: Generated,
  caller: Caller,
  hostHeader: string,
): Expectation {
  const { wire } = generated;
  // Bytes outside visible ASCII in the request line: Node's HTTP parser refuses it (400,
  // before any header is read, so no request id to echo); API Gateway may too, or may not.
  const unreadable = /[^\x21-\x7e]/.test(wire.target);
  const quota = headerQuotaBytes(wire, hostHeader);
  // Within a few bytes of the quota our count of it may be off by what Node adds.
  const nearQuota = Math.abs(quota - GATEWAY_HEADER_QUOTA_BYTES) <= QUOTA_MARGIN;
  const alsoAllowed = [
    ...(generated.alsoAllowed ?? []),
    ...(unreadable ? [400] : []),
    ...(nearQuota ? [431] : []),
  ];
  const result = (
    route: RouteDefinition,
    reason: string,
    fields: Partial<
      Pick<
        Expectation,
        'required' | 'forbid422' | 'allow' | 'echoRequestId' | 'refusedBySchema' | 'parsed'
      >
    > = {},
    gatewayStatuses: number[] = [],
  ): Expectation => {
    const declared = declaredStatuses(route);
    for (const status of [...gatewayStatuses, ...alsoAllowed]) declared.add(status);
    const expectation: Expectation = {
      route,
      routeName: routeName(route),
      declared,
      reason,
      forbid422: false,
      echoRequestId: !unreadable,
      refusedBySchema: [],
      ...fields,
    };
    if (generated.lenient || unreadable) {
      delete expectation.required;
      expectation.forbid422 = false;
    } else if (expectation.required && alsoAllowed.length) {
      expectation.required = [...expectation.required, ...alsoAllowed];
    }
    return expectation;
  };

  const target = splitTarget(wire.target);
  if (!target) {
    return result(fallbackRoute, 'a request-target that is no path', { required: [400] }, [400]);
  }
  if (quota > GATEWAY_HEADER_QUOTA_BYTES + QUOTA_MARGIN) {
    const reason = `${quota} bytes of request line and header values`;
    return result(fallbackRoute, reason, { required: [431] }, [431]);
  }
  const resolved = resolveRoute(wire.method, target.path);
  if (!resolved) return result(fallbackRoute, 'no route has this path', { required: [404] });
  if ('allow' in resolved) {
    return result(fallbackRoute, 'the path has other methods', {
      required: [405],
      allow: resolved.allow.join(', '),
    });
  }
  const { route, params } = resolved;
  const signedIn = caller === 'user' || caller === 'admin' || caller === 'deleted account';
  if (route.auth !== 'public' && !signedIn) {
    return result(route, `${caller} on a signed-in route`, { required: [401] });
  }
  if (route.auth === 'admin' && caller !== 'admin') {
    return result(route, `${caller} on an admin route`, { required: [403] });
  }

  const request = route.request ?? {};
  let body: unknown;
  if (request.body || request.form) {
    const decoded = decodeBody(route, wire);
    if ('status' in decoded) return result(route, decoded.why, { required: [decoded.status] });
    body = decoded.value;
    if (decoded.notUtf8) {
      const outcome = expectOutcome(
        { ...generated, wire: { ...wire, body: Buffer.from(bytesAsText(wire)) } },
        caller,
        hostHeader,
      );
      return {
        ...outcome,
        reason: `bytes that are not UTF-8: 400, or as U+FFFD (${outcome.reason})`,
        required: outcome.required && [...outcome.required, 400],
        forbid422: outcome.forbid422,
      };
    }
  }
  const headers: Record<string, string> = {};
  const headerShape = (request.headers as core.$ZodObject | undefined)?._zod.def.shape ?? {};
  for (const name of Object.keys(headerShape)) {
    const value = headerValue(wire.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  // The handler picks the form schema for a form body, else the JSON one (createHandler).
  const bodySchema = request.form && isForm(wire) ? request.form : (request.body ?? request.form);
  const inputs: [string, core.$ZodType | undefined, unknown][] = [
    ['path', request.path, params],
    ['query', request.query, gatewayQuery(target.query)],
    ['header', request.headers, headers],
    ['body', bodySchema, body],
  ];
  const refused = inputs.filter(([, schema, value]) => schema && !accepts(schema, value));
  if (refused.length) {
    const parts = refused.map(([part]) => part).join(', ');
    return result(route, `the route's schema refuses the ${parts}`, {
      required: [422],
      refusedBySchema: refused.map(([part]) => part),
    });
  }
  // U+0000 cannot be stored (PostgreSQL text): a 422 for it is a documented refusal.
  const nul = inputs.some(([, schema, value]) => schema && containsNul(value));
  const output = (schema: core.$ZodType | undefined, value: unknown) =>
    schema ? core.safeParse(schema, value).data : undefined;
  const parsed: ParsedInput = {
    path: (output(request.path, params) ?? {}) as Record<string, unknown>,
    query: (output(request.query, gatewayQuery(target.query)) ?? {}) as Record<string, unknown>,
    body: output(bodySchema, body),
  };
  const rule = generated.rule;
  if (rule?.stage === 'validation') return result(route, rule.why, { required: rule.statuses });
  if (rule?.stage === 'handler') {
    // The NUL refusal (422) comes first, at validation.
    const required = nul ? [...rule.statuses, 422] : rule.statuses;
    return result(route, rule.why, { required, forbid422: !nul, parsed });
  }
  return result(route, 'every input is valid', { forbid422: !nul, parsed });
}

function bytesAsText(wire: WireRequest): string {
  return (wire.body ?? Buffer.alloc(0)).toString('utf8');
}

function isForm(wire: WireRequest): boolean {
  const contentType = headerValue(wire.headers, 'content-type') ?? '';
  return contentType.split(';', 1)[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

function isZod(value: unknown): value is core.$ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Every way `response` breaks the contract for `expectation` (empty when it keeps it):
 * no 5xx, and no response a Lambda could not return (over 6 MB); `X-Request-ID` valid, and the client's own when it sent a valid one; errors are
 * `application/problem+json` whose `status` and `request_id` match, leaking nothing; the status
 * is declared by the route and meets `required`; no 422 where every input is valid; 2xx bodies
 * match the route's schema or media type, with the documented response headers; 401 carries
 * `WWW-Authenticate: Bearer`, 405 `Allow`, 429 and 503 `Retry-After`.
 */
export function contractViolations(
  expectation: Expectation,
  wire: WireRequest,
  response: WireResponse,
): string[] {
  const violations: string[] = [];
  const { status } = response;
  const { route } = expectation;
  if (status >= 500) violations.push(`5xx: ${status}`);
  const size = Buffer.byteLength(response.text);
  if (size > LAMBDA_RESPONSE_MAX_BYTES) {
    violations.push(`response of ${size} bytes, over Lambda's 6 MB response quota (a 5xx in AWS)`);
  }
  const requestId = single(response.headers, 'x-request-id');
  if (!requestId || !REQUEST_ID_PATTERN.test(requestId)) {
    violations.push(`X-Request-ID missing or malformed: ${JSON.stringify(requestId)}`);
  }
  const sent = wire.headers['x-request-id'];
  const valid = typeof sent === 'string' && REQUEST_ID_PATTERN.test(sent);
  if (expectation.echoRequestId && valid && requestId !== sent) {
    violations.push(`X-Request-ID not echoed: sent ${sent}, got ${requestId}`);
  }
  const success = route.responses[status];
  if (success === undefined) {
    const contentType = single(response.headers, 'content-type') ?? '';
    if (contentType.split(';', 1)[0]?.trim() !== 'application/problem+json') {
      violations.push(
        `error without application/problem+json: ${status} ${JSON.stringify(contentType)}`,
      );
    } else {
      const problem = Problem.safeParse(response.body);
      if (!problem.success)
        violations.push(`problem body breaks the Problem schema: ${response.text.slice(0, 200)}`);
      else {
        if (problem.data.status !== status)
          violations.push(`problem status ${problem.data.status} ≠ ${status}`);
        if (problem.data.request_id !== requestId) {
          violations.push(
            `problem request_id ${problem.data.request_id} ≠ X-Request-ID ${requestId}`,
          );
        }
        // The detail may quote the request's own path, whatever it holds.
        const path = wire.target.split('?', 1)[0] ?? '';
        const shown = `${problem.data.title} ${problem.data.detail}`
          .replaceAll(wire.target, '')
          .replaceAll(path, '');
        if (LEAK.test(shown))
          violations.push(`problem leaks internals: ${problem.data.detail.slice(0, 200)}`);
      }
    }
  }
  if (!expectation.declared.has(status)) {
    violations.push(`status ${status} is not declared for ${expectation.routeName}`);
  }
  if (expectation.required && !expectation.required.includes(status)) {
    violations.push(
      `expected ${expectation.required.join(' or ')} (${expectation.reason}), got ${status}`,
    );
  }
  const errors = (response.body as Problem | undefined)?.errors;
  const handlerRule =
    errors?.length && errors.every((e) => expectation.handler422Codes?.includes(e.code));
  if (expectation.forbid422 && status === 422 && !handlerRule) {
    const fields = errors?.map((e) => `${e.field}: ${e.code}`);
    violations.push(
      `422 for input the route's schemas accept (${fields?.join('; ') ?? response.text.slice(0, 200)})`,
    );
  }
  if (success !== undefined) {
    const contentType = single(response.headers, 'content-type') ?? '';
    if (isZod(success)) {
      if (!contentType.startsWith('application/json'))
        violations.push(`2xx JSON sent as ${contentType}`);
      const parsed = core.safeParse(success, response.body);
      if (!parsed.success) {
        violations.push(
          `2xx body breaks its schema: ${parsed.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')}`,
        );
      }
    } else if (success === null) {
      if (response.text !== '')
        violations.push(`${status} must have no body, got ${response.text.slice(0, 100)}`);
    } else {
      const [type = '', subtype = ''] = success.mediaType.split('/');
      const want = subtype === '*' ? `${type}/` : success.mediaType;
      if (!contentType.startsWith(want))
        violations.push(`2xx sent as ${contentType}, declared ${success.mediaType}`);
    }
    for (const header of status < 300 ? Object.keys(route.responseHeaders ?? {}) : []) {
      if (single(response.headers, header.toLowerCase()) === undefined) {
        violations.push(`2xx without its documented ${header} header`);
      }
    }
  }
  if (status === 401 && !/^Bearer\b/.test(single(response.headers, 'www-authenticate') ?? '')) {
    violations.push('401 without WWW-Authenticate: Bearer');
  }
  if (
    status === 405 &&
    expectation.allow !== undefined &&
    single(response.headers, 'allow') !== expectation.allow
  ) {
    violations.push(
      `405 Allow ${JSON.stringify(single(response.headers, 'allow'))}, expected ${expectation.allow}`,
    );
  }
  if ((status === 429 || status === 503) && !single(response.headers, 'retry-after')) {
    violations.push(`${status} without Retry-After`);
  }
  return violations;
}
