import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ValidationFailed } from '../../../shared/errors.js';
import type { HttpEvent, RequestState } from '../../../shared/http/middleware/types.js';
import { validation } from '../../../shared/http/middleware/validation.js';
import type { RouteDefinition, RouteRequest } from '../../../shared/http/route.js';
import { IfMatchHeaders } from '../../../shared/http/schemas.js';
import { routeList } from '../../../shared/routes/index.js';
import { validDraft } from '../../helpers/fuzz-requests.js';
import { fuzzRuns, httpEvent, requestState } from './harness.js';

interface Input {
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  form?: boolean;
}

/**
 * Runs the validation middleware's `before` on one request, as the stack does after `body`.
 * Returns the state it filled in; throws what it throws.
 */
function validateRequest(schemas: RouteRequest, input: Input): RequestState {
  const state: RequestState = { ...requestState(), body: input.body, form: input.form ?? false };
  const event: HttpEvent = httpEvent({
    headers: input.headers ?? {},
    ...(input.pathParameters ? { pathParameters: input.pathParameters } : {}),
    ...(input.queryStringParameters ? { queryStringParameters: input.queryStringParameters } : {}),
  });
  const middleware = validation(schemas);
  middleware.before?.({
    event,
    context: { requestState: state },
    response: undefined,
    error: undefined,
    internal: {},
  } as never);
  return state;
}

/** The field errors `validateRequest` refuses `input` with (empty when it passes). */
function errorsOf(schemas: RouteRequest, input: Input) {
  try {
    validateRequest(schemas, input);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailed);
    return (error as ValidationFailed).extra.errors ?? [];
  }
}

const note = {
  path: z.object({ id: z.uuid() }),
  query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
  headers: IfMatchHeaders,
  body: z.strictObject({ title: z.string().min(1), tags: z.array(z.string()).optional() }),
};

describe('validation middleware', () => {
  it('puts the parsed path, query and body on requestState.input', () => {
    const id = crypto.randomUUID();
    const state = validateRequest(note, {
      pathParameters: { id },
      queryStringParameters: { limit: '5' },
      headers: { 'if-match': '"3"' },
      body: { title: 'a' },
    });
    expect(state.input).toEqual({ path: { id }, query: { limit: 5 }, body: { title: 'a' } });
    expect(validateRequest({ query: note.query }, {}).input?.query).toEqual({ limit: 20 });
  });

  it('reports the errors of every location at once, prefixed by where they are', () => {
    const errors = errorsOf(note, {
      pathParameters: { id: 'nope' },
      queryStringParameters: { limit: '0' },
      headers: { 'if-match': '"1"'.repeat(400) },
      body: { title: '', extra: 1 },
    });
    expect(errors.map((e) => e.field)).toEqual(
      expect.arrayContaining(['path.id', 'query.limit', 'header.if-match', 'title', 'extra']),
    );
  });

  it('reports a missing body as the body, and ignores headers and query parameters it does not declare', () => {
    expect(errorsOf(note, { pathParameters: { id: crypto.randomUUID() } })).toEqual([
      expect.objectContaining({ field: 'body' }),
    ]);
    const state = validateRequest(
      { query: note.query, headers: IfMatchHeaders },
      { queryStringParameters: { other: '\u0000' }, headers: { 'x-other': '\u0000' } },
    );
    expect(state.input?.query).toEqual({ limit: 20 });
  });

  it('validates a form body with the form schema, a JSON body with the body schema', () => {
    const schemas = {
      body: z.object({ json: z.literal(true) }),
      form: z.object({ form: z.string() }),
    };
    expect(validateRequest(schemas, { body: { form: 'x' }, form: true }).input?.body).toEqual({
      form: 'x',
    });
    expect(validateRequest(schemas, { body: { json: true }, form: false }).input?.body).toEqual({
      json: true,
    });
    expect(errorsOf(schemas, { body: { json: true }, form: true })[0]?.field).toBe('form');
    // A duplicate form field arrives as an array (the urlencode parser) and is refused.
    expect(errorsOf(schemas, { body: { form: ['a', 'b'] }, form: true })[0]?.field).toBe('form');
  });

  it('refuses U+0000 in any location, whatever the schema says', () => {
    const loose = { path: z.object({ id: z.string() }), body: z.unknown() };
    expect(errorsOf(loose, { pathParameters: { id: 'a\u0000' }, body: 'x' })[0]).toMatchObject({
      field: 'path.id',
      code: 'nul_character',
    });
    expect(
      errorsOf(loose, { pathParameters: { id: 'a' }, body: { k: ['\u0000'] } })[0],
    ).toMatchObject({ field: 'k.0', code: 'nul_character' });
  });

  // Unreachable through createHandler (`body` sets `form` only where `accepts.form`), but the
  // middleware alone must not crash on it (a TypeError would be a 500).
  it('a form body on a route with only a JSON body schema is validated by that schema, not a TypeError', () => {
    const schemas = { body: z.object({ title: z.string() }) };
    expect(errorsOf(schemas, { body: { title: 'x' }, form: true })).toEqual([]);
    expect(errorsOf(schemas, { body: {}, form: true })[0]?.field).toBe('title');
  });

  it('throws nothing but ValidationFailed for any input to any route of the table', () => {
    const routes = routeList.filter((route) => route.request && Object.keys(route.request).length);
    const text = fc.string({ maxLength: 12, unit: 'binary' });
    const garbage = fc.record({
      pathParameters: fc.option(fc.dictionary(fc.constantFrom('id', 'proxy', 'sku', 'x'), text), {
        nil: undefined,
      }),
      queryStringParameters: fc.option(
        fc.dictionary(fc.oneof(text, fc.constantFrom('limit', 'cursor', 'from', 'to')), text),
        { nil: undefined },
      ),
      headers: fc.dictionary(fc.oneof(text, fc.constantFrom('if-match', 'idempotency-key')), text),
      body: fc.oneof(fc.anything(), fc.jsonValue()),
    });
    // `body` sets `form` only on routes that take forms (`checkBody`).
    const input = (route: RouteDefinition): fc.Arbitrary<Input> =>
      fc.oneof(
        fc
          .tuple(garbage, fc.boolean())
          .map(([request, form]) => ({ ...request, form: form && Boolean(route.request?.form) })),
        validDraft(route).map((draft) => ({
          pathParameters: draft.path,
          queryStringParameters: Object.fromEntries(draft.query),
          headers: Object.fromEntries(
            Object.entries(draft.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
          ),
          body: draft.body?.value,
          form: draft.body?.kind === 'form',
        })),
      );
    fc.assert(
      fc.property(
        fc.constantFrom(...routes).chain((route) => fc.tuple(fc.constant(route), input(route))),
        ([route, request]) => {
          let state: RequestState | undefined;
          try {
            state = validateRequest(route.request ?? {}, request);
          } catch (error) {
            expect(error, `${route.method} ${route.path}`).toBeInstanceOf(ValidationFailed);
            const errors = (error as ValidationFailed).extra.errors ?? [];
            expect(errors.length).toBeGreaterThan(0);
            // At most 20 per location (path, query, header, body).
            expect(errors.length).toBeLessThanOrEqual(80);
            for (const fieldError of errors) {
              expect(fieldError).toEqual({
                field: expect.any(String),
                code: expect.any(String),
                message: expect.any(String),
              });
            }
            return;
          }
          expect(state.input).toBeDefined();
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });
});
