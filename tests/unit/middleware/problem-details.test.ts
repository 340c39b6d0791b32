import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AppError,
  BadRequest,
  Conflict,
  type ErrorKind,
  Forbidden,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  ServiceUnavailable,
  UnsupportedMediaType,
  ValidationFailed,
} from '../../../shared/errors.js';
import { fromMiddyError, problemDetails } from '../../../shared/http/middleware/problem-details.js';
import { requestContext } from '../../../shared/http/middleware/request-context.js';
import { PROBLEM_CONTENT_TYPE, STATUS_OF_KIND } from '../../../shared/http/problem.js';
import { fuzzRuns, httpEvent, problemOf, publishMetrics, stack } from './harness.js';

/** The error a middy parser throws for `event` (its `before` run alone), or undefined. */
function middyErrorOf(
  parser: { before?: (request: never) => unknown },
  event: { headers: Record<string, string>; body?: string },
): unknown {
  try {
    parser.before?.({ event: { isBase64Encoded: false, ...event } } as never);
    return undefined;
  } catch (error) {
    return error;
  }
}

const json = (body: string, contentType = 'application/json') =>
  middyErrorOf(httpJsonBodyParser(), { headers: { 'content-type': contentType }, body });

/** An error shaped as `@middy/util`'s `createError` makes them. */
function middyHttpError(statusCode: number, message: string, pkg = '@middy/some-package'): Error {
  return Object.assign(new Error(message), {
    statusCode,
    expose: statusCode < 500,
    cause: { package: pkg },
  });
}

/** Runs `problemDetails` behind `requestContext` on a handler that throws `thrown`. */
async function problemFor(thrown: unknown, headers: Record<string, string> = {}) {
  let requestId = '';
  const call = stack(
    [publishMetrics(), requestContext('GET /things'), problemDetails()],
    async (_event, context) => {
      requestId = context.requestState.requestId;
      throw thrown;
    },
  );
  const result = await call(httpEvent({ path: '/things/1', headers }));
  return { result, requestId };
}

describe('fromMiddyError (the official parsers’ errors in this API’s terms)', () => {
  it('maps malformed JSON to 400 and well-formed JSON too deep for the parser to 422 too_deep', () => {
    expect(fromMiddyError(json('{"a":'))).toBeInstanceOf(BadRequest);
    const deep = fromMiddyError(json(`${'['.repeat(100_000)}${']'.repeat(100_000)}`));
    expect(deep).toBeInstanceOf(ValidationFailed);
    expect(deep?.extra.errors).toEqual([
      { field: 'body', code: 'too_deep', message: 'The body is nested too deeply.' },
    ]);
  });

  it('maps a forbidden key to a 422 field error that names the key', () => {
    for (const [body, key] of [
      ['{"__proto__":{}}', '__proto__'],
      ['[{"constructor":{"prototype":1}}]', 'constructor'],
    ] as const) {
      const mapped = fromMiddyError(json(body));
      expect(mapped, body).toBeInstanceOf(ValidationFailed);
      expect(mapped?.extra.errors, body).toEqual([
        { field: key, code: 'forbidden_key', message: `The key "${key}" is not allowed.` },
      ]);
    }
  });

  it('maps an unsupported content type (415) to one that names what is accepted', () => {
    const jsonError = fromMiddyError(json('{}', 'text/plain'));
    expect(jsonError).toBeInstanceOf(UnsupportedMediaType);
    expect(jsonError?.message).toContain('application/json');
    const form = middyErrorOf(httpUrlencodeBodyParser(), {
      headers: { 'content-type': 'text/plain' },
      body: 'a=1',
    });
    expect(fromMiddyError(form)).toBeInstanceOf(UnsupportedMediaType);
  });

  it('leaves errors that are not middy’s to errorToProblem', () => {
    for (const error of [
      new Error('Invalid or malformed JSON was provided'),
      Object.assign(new Error('x'), { statusCode: 400 }),
      Object.assign(new Error('x'), { statusCode: 400, cause: { package: 'other' } }),
      { statusCode: 400, message: 'x', cause: { package: '@middy/core' } },
      new BadRequest('mine'),
      'text',
      null,
      undefined,
    ]) {
      expect(fromMiddyError(error)).toBeUndefined();
    }
  });

  it('keeps a middy 5xx a bare 500 (left to errorToProblem)', () => {
    expect(fromMiddyError(middyHttpError(500, 'internal detail'))).toBeUndefined();
  });

  it('keeps the status and message of any other middy 4xx this API has a kind for', () => {
    for (const status of [404, 409, 413, 429]) {
      const mapped = fromMiddyError(middyHttpError(status, 'For the client.'));
      expect(mapped?.message, String(status)).toBe('For the client.');
      expect(mapped && STATUS_OF_KIND[mapped.kind], String(status)).toBe(status);
    }
    expect(fromMiddyError(middyHttpError(418, 'Teapot.'))).toMatchObject({
      kind: 'bad_request',
      message: 'Teapot.',
    });
  });
});

describe('problemDetails middleware', () => {
  it('answers each AppError with its status, its detail and the request id', async () => {
    const cases: [AppError, number][] = [
      [new BadRequest('b'), 400],
      [new Forbidden(), 403],
      [new NotFound(), 404],
      [new Conflict('c'), 409],
      [new PayloadTooLarge(10), 413],
      [new UnsupportedMediaType(['application/json']), 415],
      [new ValidationFailed([{ field: 'a', code: 'c', message: 'm' }]), 422],
      [new RateLimited(7), 429],
      [new ServiceUnavailable(), 503],
    ];
    for (const [error, status] of cases) {
      const { result, requestId } = await problemFor(error, { 'x-request-id': 'req-7' });
      expect(result.statusCode).toBe(status);
      expect(result.headers?.['Content-Type']).toBe(PROBLEM_CONTENT_TYPE);
      expect(problemOf(result)).toMatchObject({
        type: 'about:blank',
        status,
        detail: error.message,
        instance: '/things/1',
        request_id: 'req-7',
      });
      expect(requestId).toBe('req-7');
      for (const [name, value] of Object.entries(error.extra.headers ?? {})) {
        expect(result.headers?.[name]).toBe(value);
      }
    }
  });

  it('takes the request id from the header when it runs without a request state', async () => {
    const call = stack([problemDetails()], async () => {
      throw new NotFound();
    });
    const result = await call(httpEvent({ headers: { 'x-request-id': 'early-1' } }));
    expect(problemOf(result).request_id).toBe('early-1');
  });

  it('answers any thrown value with problem+json: a 4xx/5xx, the request id, no internals', async () => {
    const secret = fc.uuid().map((id) => `secret-${id}`);
    const kinds = Object.keys(STATUS_OF_KIND) as ErrorKind[];
    const thrown = fc.oneof(
      fc.anything(),
      secret.map((message) => new Error(message)),
      secret.map((message) => new TypeError(message)),
      fc
        .tuple(
          secret,
          fc.constantFrom('23505', '42601', '57014', '22003', 'ECONNREFUSED', 'CONNECT_TIMEOUT'),
        )
        .map(([message, code]) => Object.assign(new Error(message), { code })),
      secret.map((message) => Object.assign(new Error(message), { name: 'TimeoutError' })),
      fc
        .tuple(secret, fc.integer({ min: 500, max: 599 }))
        .map(([message, status]) => middyHttpError(status, message)),
      fc
        .tuple(fc.constantFrom(...kinds), fc.string())
        .map(([kind, detail]) => new AppError(kind, detail)),
      secret.map((message) => ({ message, stack: message })),
    );
    await fc.assert(
      fc.asyncProperty(thrown, async (value) => {
        const { result, requestId } = await problemFor(value);
        const status = result.statusCode ?? 0;
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(600);
        expect(result.headers?.['Content-Type']).toBe(PROBLEM_CONTENT_TYPE);
        const problem = problemOf(result);
        expect(problem).toMatchObject({ status, request_id: requestId, instance: '/things/1' });
        expect(result.headers?.['X-Request-ID']).toBe(requestId);
        const text = String(result.body);
        expect(text).not.toMatch(/\bat .*:\d+:\d+/); // no stack frame
        if (value instanceof AppError) {
          expect(status).toBe(STATUS_OF_KIND[value.kind]);
          expect(problem.detail).toBe(value.message);
        } else {
          expect(text).not.toContain('secret-');
        }
      }),
      { numRuns: fuzzRuns(100) },
    );
  });
});
