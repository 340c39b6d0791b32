import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from '../../../shared/errors.js';
import {
  body,
  charsetOf,
  checkBody,
  FORM_MEDIA_TYPE,
  JSON_MEDIA_TYPE,
  MAX_BODY_BYTES,
  mediaTypeOf,
} from '../../../shared/http/middleware/body.js';
import { problemDetails } from '../../../shared/http/middleware/problem-details.js';
import type { HttpEvent, RequestState } from '../../../shared/http/middleware/types.js';
import { fuzzRuns, httpEvent, problemOf, requestState, stack, withState } from './harness.js';

const both = { json: true, form: true };
const jsonOnly = { json: true, form: false };

interface Decoded {
  status: number;
  /** `requestState.body` as the handler saw it. */
  value: unknown;
  form: boolean | undefined;
  problem?: Record<string, unknown>;
  /** The event after the stack ran. */
  event: HttpEvent;
}

/** Runs the `body` middleware (behind problem details, as `createHandler` does) on one body. */
async function decode(
  raw: string | undefined,
  isBase64Encoded: boolean,
  contentType: string | undefined,
  accepts = both,
): Promise<Decoded> {
  let seen: RequestState | undefined;
  const call = stack(
    [withState(() => requestState()), problemDetails(), body(accepts)],
    async (_event, context) => {
      seen = context.requestState;
      return { statusCode: 200 };
    },
  );
  const headers: Record<string, string> =
    contentType === undefined ? {} : { 'content-type': contentType };
  const event = httpEvent({ method: 'POST', headers, body: raw, isBase64Encoded });
  const result = await call(event);
  return {
    status: result.statusCode ?? 0,
    value: seen?.body,
    form: seen?.form,
    ...(result.statusCode === 200 ? {} : { problem: problemOf(result) }),
    event,
  };
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Whether the JSON value has a key @middy/http-json-body-parser refuses (prototype pollution). */
function hasForbiddenKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(
    ([key, item]) =>
      key === '__proto__' ||
      (key === 'constructor' &&
        typeof item === 'object' &&
        item !== null &&
        Object.hasOwn(item, 'prototype')) ||
      hasForbiddenKey(item),
  );
}

/** `utf-8` in any mix of upper and lower case, maybe quoted. */
const utf8Spelling = fc
  .tuple(
    fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    fc.boolean(),
    fc.constantFrom('', ' '),
  )
  .map(([upper, quoted, space]) => {
    const name = [...'utf-8'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
    return `${space}${quoted ? `"${name}"` : name}`;
  });

/** A charset token (RFC 9110 token characters) that is not utf-8 in any case. */
const otherCharset = fc
  .oneof(
    fc.constantFrom(
      'latin1',
      'iso-8859-1',
      'utf-16',
      'UTF-16LE',
      'us-ascii',
      'utf8',
      'windows-1252',
    ),
    fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/),
  )
  .filter((name) => name.toLowerCase() !== 'utf-8');

describe('checkBody (size, media type, charset, UTF-8)', () => {
  it('accepts JSON and +json media types, with parameters, and base64 bodies', () => {
    expect(checkBody('{"a":1}', false, 'application/json; charset=utf-8', both)).toEqual({
      text: '{"a":1}',
      form: false,
    });
    expect(checkBody('{"a":1}', false, 'application/merge-patch+json', both)?.form).toBe(false);
    expect(checkBody(base64('{"a":2}'), true, 'application/json', both)?.text).toBe('{"a":2}');
  });

  it('accepts forms only where the route takes them', () => {
    expect(checkBody('a=b', false, FORM_MEDIA_TYPE, both)).toEqual({ text: 'a=b', form: true });
    expect(() => checkBody('a=b', false, FORM_MEDIA_TYPE, jsonOnly)).toThrow(UnsupportedMediaType);
  });

  it('treats an empty or absent body as absent, whatever the content type', () => {
    expect(checkBody('', false, undefined, both)).toBeUndefined();
    expect(checkBody(undefined, false, 'application/json', both)).toBeUndefined();
    expect(checkBody(null, true, 'text/plain', both)).toBeUndefined();
  });

  it('refuses other media types (415) and bodies over 1 MiB (413), counting bytes', () => {
    expect(() => checkBody('hello', false, 'text/plain', both)).toThrow(UnsupportedMediaType);
    expect(() => checkBody('{}', false, undefined, both)).toThrow(UnsupportedMediaType);
    const exactly = `"${'x'.repeat(MAX_BODY_BYTES - 2)}"`;
    expect(checkBody(exactly, false, 'application/json', both)?.text).toHaveLength(MAX_BODY_BYTES);
    expect(() => checkBody(`${exactly} `, false, 'application/json', both)).toThrow(
      PayloadTooLarge,
    );
    // Bytes, not characters: 'é' is two bytes in UTF-8; and size comes before media type.
    expect(() => checkBody('é'.repeat(MAX_BODY_BYTES / 2 + 1), false, 'text/plain', both)).toThrow(
      PayloadTooLarge,
    );
  });

  it('reads the media type case-insensitively without parameters', () => {
    expect(mediaTypeOf(' Application/JSON ; charset=UTF-8')).toBe('application/json');
    expect(mediaTypeOf(undefined)).toBe('');
  });

  it('reads the charset parameter as RFC 9110 writes parameters', () => {
    expect(charsetOf('application/json')).toBeUndefined();
    expect(charsetOf('application/json; Charset="UTF-8"')).toBe('utf-8');
    expect(charsetOf('application/json;foo=bar; charset = latin1')).toBe('latin1');
    expect(charsetOf(undefined)).toBeUndefined();
  });

  it('refuses any charset but UTF-8 with 415, before reading the body', () => {
    fc.assert(
      fc.property(otherCharset, fc.boolean(), (charset, form) => {
        const type = form ? FORM_MEDIA_TYPE : JSON_MEDIA_TYPE;
        expect(() => checkBody('{}', false, `${type}; charset=${charset}`, both)).toThrow(
          UnsupportedMediaType,
        );
      }),
      { numRuns: fuzzRuns(100) },
    );
    expect(() => checkBody('{}', false, 'application/json; charset=latin1', jsonOnly)).toThrow(
      UnsupportedMediaType,
    );
  });

  it('answers 400 for bytes that are not UTF-8, and drops a leading BOM', () => {
    const latin1 = Buffer.from('{"a":"\xe9"}', 'latin1').toString('base64');
    expect(() => checkBody(latin1, true, 'application/json', both)).toThrow(BadRequest);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    expect(checkBody(bom.toString('base64'), true, 'application/json', both)?.text).toBe('{"a":1}');
  });
});

describe('body middleware (checkBody, then the middy parsers)', () => {
  it('parses JSON into requestState.body, and leaves the event as API Gateway sent it', async () => {
    const raw = base64('{"a":[1,"é"]}');
    const decoded = await decode(raw, true, 'application/json', both);
    expect(decoded).toMatchObject({ status: 200, value: { a: [1, 'é'] }, form: false });
    expect(decoded.event.body).toBe(raw);
    expect(decoded.event.isBase64Encoded).toBe(true);
  });

  it('parses forms (UTF-8, + as space), duplicate fields becoming arrays', async () => {
    const login = await decode('username=a%40b.c&password=x+y', false, FORM_MEDIA_TYPE);
    expect(login).toMatchObject({ status: 200, form: true });
    expect({ ...(login.value as object) }).toEqual({ username: 'a@b.c', password: 'x y' });
    const twice = await decode('a=1&a=2', false, FORM_MEDIA_TYPE);
    expect({ ...(twice.value as object) }).toEqual({ a: ['1', '2'] });
  });

  it('leaves an absent body undefined, for validation to report the missing fields', async () => {
    expect(await decode(undefined, false, 'application/json')).toMatchObject({
      status: 200,
      value: undefined,
    });
    expect(await decode('', false, undefined)).toMatchObject({ status: 200, value: undefined });
  });

  it('answers malformed JSON with 400, never middy’s 422', async () => {
    for (const raw of ['{"a":', '{a:1}', "{'a':1}", '[1,]', 'NaN', ' ']) {
      const decoded = await decode(raw, false, 'application/json');
      expect(decoded.status, raw).toBe(400);
      expect(decoded.problem?.detail, raw).toBe('The body is not valid JSON.');
    }
  });

  it('refuses prototype keys with a 422 field error forbidden_key', async () => {
    for (const [raw, key] of [
      ['{"__proto__":{"admin":true}}', '__proto__'],
      ['{"a":{"constructor":{"prototype":{"x":1}}}}', 'constructor'],
    ] as const) {
      const decoded = await decode(raw, false, 'application/json');
      expect(decoded.status, raw).toBe(422);
      expect(decoded.problem?.errors, raw).toEqual([
        { field: key, code: 'forbidden_key', message: `The key "${key}" is not allowed.` },
      ]);
    }
  });

  it('refuses well-formed JSON nested deeper than the parser can walk with a 422 too_deep', async () => {
    const depth = 100_000;
    const decoded = await decode(
      `${'['.repeat(depth)}${']'.repeat(depth)}`,
      false,
      JSON_MEDIA_TYPE,
    );
    expect(decoded.status).toBe(422);
    expect(decoded.problem?.errors).toEqual([
      { field: 'body', code: 'too_deep', message: 'The body is nested too deeply.' },
    ]);
  });

  it('accepts charset=utf-8 in any case, quoted or not, on JSON and forms', async () => {
    await fc.assert(
      fc.asyncProperty(
        utf8Spelling,
        fc.constantFrom('Charset', 'charset', 'CHARSET'),
        async (value, name) => {
          const json = await decode('{"a":"é"}', false, `application/json; ${name}=${value}`);
          expect(json.value).toEqual({ a: 'é' });
          const form = await decode('a=%C3%A9', false, `${FORM_MEDIA_TYPE};${name}=${value}`);
          expect({ ...(form.value as object) }).toEqual({ a: 'é' });
        },
      ),
      { numRuns: fuzzRuns(50) },
    );
  });

  it('round-trips any JSON text sent as UTF-8 bytes (base64, as API Gateway sends binary)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json(), fc.boolean(), async (text, binary) => {
        const raw = binary ? base64(text) : text;
        const decoded = await decode(raw, binary, 'application/json; charset=utf-8');
        const expected = JSON.parse(text) as unknown;
        if (hasForbiddenKey(expected)) {
          expect(decoded.status).toBe(422);
        } else {
          expect(decoded.status).toBe(200);
          expect(decoded.value).toStrictEqual(expected);
        }
      }),
      { numRuns: fuzzRuns(100) },
    );
  });

  it('answers any bytes under any content type with a parsed value or exactly one of 400, 413, 415, 422', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        undefined,
        '',
        JSON_MEDIA_TYPE,
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'APPLICATION/JSON',
        'application/problem+json',
        'application/jsonx',
        FORM_MEDIA_TYPE,
        `${FORM_MEDIA_TYPE}; charset="UTF-8"`,
        'text/plain',
        'multipart/form-data; boundary=x',
        ';charset=utf-8',
      ),
      fc.string({ maxLength: 40 }),
    );
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.json().map((text) => new Uint8Array(Buffer.from(text))),
      fc.string({ unit: 'binary', maxLength: 32 }).map((text) => new Uint8Array(Buffer.from(text))),
      fc.constantFrom(MAX_BODY_BYTES, MAX_BODY_BYTES + 1).map((n) => new Uint8Array(n).fill(0x20)),
    );
    await fc.assert(
      fc.asyncProperty(bytes, contentType, fc.boolean(), async (data, type, binary) => {
        const buffer = Buffer.from(data);
        // A text event carries a JS string; bytes that are not UTF-8 only come base64-encoded.
        const raw = binary ? buffer.toString('base64') : buffer.toString('utf8');
        const decoded = await decode(raw, binary, type);
        expect([200, 400, 413, 415, 422]).toContain(decoded.status);
        if (decoded.status !== 200) {
          expect(decoded.problem?.status).toBe(decoded.status);
          expect(decoded.value).toBeUndefined();
        }
        if (decoded.status === 413) expect(buffer.byteLength).toBeGreaterThan(MAX_BODY_BYTES);
        if (decoded.status === 200 && raw !== '') {
          expect(decoded.form).toBe(mediaTypeOf(type) === FORM_MEDIA_TYPE);
        }
      }),
      { numRuns: fuzzRuns(100) },
    );
  });
});
