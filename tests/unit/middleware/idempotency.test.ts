import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSql } from '../../../shared/db/client.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../../../shared/http/idempotency-key.js';
import {
  canonicalJson,
  idempotency,
  requestFingerprint,
} from '../../../shared/http/middleware/idempotency.js';
import { problemDetails } from '../../../shared/http/middleware/problem-details.js';
import type { IdempotencyState } from '../../../shared/http/middleware/types.js';
import { fuzzRuns, httpEvent, problemOf, requestState, stack, withState } from './harness.js';

// The key lookup of a valid key reads the real database of the test run (no record: a fresh
// user id per call, so nothing is ever found).
afterAll(() => closeSql());

const ROUTE = 'POST /t';

/** Runs the middleware on one `Idempotency-Key` value (undefined: no header). */
async function keyed(key: string | undefined, body: unknown = { a: 1 }) {
  let seen: IdempotencyState | undefined;
  const call = stack(
    [
      withState(() => ({
        ...requestState(),
        principal: { userId: randomUUID(), role: 'user', tokenId: 'j', expiresAt: 0 },
        body,
      })),
      problemDetails(),
      idempotency(ROUTE),
    ],
    async (_event, context) => {
      seen = context.requestState.idempotency;
      return { statusCode: 200 };
    },
  );
  const result = await call(
    httpEvent({
      method: 'POST',
      path: '/t',
      headers: key === undefined ? {} : { 'idempotency-key': key },
    }),
  );
  return { status: result.statusCode, seen, result };
}

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
/** Keys the contract accepts: 1–255 characters of U+0020–U+007E. */
const validKey = fc.string({ unit: printable, minLength: 1, maxLength: 255 });
/** A character outside U+0020–U+007E: controls, DEL, Latin-1, BMP, astral. */
const outside = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constant('\x7f'),
  fc.integer({ min: 0x80, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('ü', '€', '😀', '\u2028'),
);
const invalidKey = fc.oneof(
  fc.constant(''),
  fc.string({ unit: printable, minLength: 256, maxLength: 600 }),
  fc
    .tuple(
      fc.string({ unit: printable, maxLength: 120 }),
      outside,
      fc.string({ unit: printable, maxLength: 120 }),
    )
    .map(([before, odd, after]) => before + odd + after),
);

describe('idempotency middleware: the Idempotency-Key header', () => {
  it('does nothing without the header: the handler runs with no key', async () => {
    const { status, seen } = await keyed(undefined);
    expect(status).toBe(200);
    expect(seen).toBeUndefined();
  });

  it('accepts 1 and 255 characters, spaces and every printable ASCII character', async () => {
    const every = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
    for (const key of ['a', 'k'.repeat(255), ' spaced key ', every.join(''), '"sf-string"']) {
      const { status, seen } = await keyed(key);
      expect(status, key).toBe(200);
      expect(seen?.input.key).toBe(key);
    }
  });

  it('refuses an empty key, 256 characters and a non-ASCII or control character with 400', async () => {
    for (const key of ['', 'k'.repeat(256), 'ümlaut', 'tab\there', 'nul\u0000', 'del\x7f']) {
      const { status, seen, result } = await keyed(key);
      expect(status, JSON.stringify(key)).toBe(400);
      expect(seen).toBeUndefined();
      expect(result.headers?.['Content-Type']).toBe('application/problem+json');
      expect(problemOf(result).detail).toContain('Idempotency-Key');
    }
  });

  it('property: every valid key is accepted as is', async () => {
    await fc.assert(
      fc.asyncProperty(validKey, async (key) => {
        expect(IDEMPOTENCY_KEY_PATTERN.test(key)).toBe(true);
        const { status, seen } = await keyed(key);
        expect(status).toBe(200);
        expect(seen?.input.key).toBe(key);
      }),
      { numRuns: fuzzRuns(100) },
    );
  });

  it('property: a key of length 0 or 256+, or with a character outside 0x20–0x7E, is a 400', async () => {
    await fc.assert(
      fc.asyncProperty(invalidKey, async (key) => {
        const { status, seen, result } = await keyed(key);
        expect(status).toBe(400);
        expect(seen).toBeUndefined();
        expect(problemOf(result).status).toBe(400);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });
});

/** `value` rebuilt with every object's keys in reverse order (JSON text order differs). */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value).reverse()) {
    copy[key] = reversedKeys((value as Record<string, unknown>)[key]);
  }
  return copy;
}

describe('idempotency middleware: the request fingerprint', () => {
  it('is the same for any key order and whitespace of the same JSON body', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 1, 2, '\t', ' \n '), (value, space) => {
        const a = JSON.parse(JSON.stringify(value));
        const b = JSON.parse(JSON.stringify(reversedKeys(value), null, space));
        expect(canonicalJson(b)).toBe(canonicalJson(a));
        expect(requestFingerprint('POST', '/t', b)).toBe(requestFingerprint('POST', '/t', a));
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }, 3], a: { z: null, y: 'x' } })).toBe(
      '{"a":{"y":"x","z":null},"b":[{"c":2,"d":1},3]}',
    );
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(JSON.parse('{"__proto__": 1, "a": 2}'))).toBe('{"__proto__":1,"a":2}');
  });

  it('differs for different bodies, methods and paths', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (x, y) => {
        const a = JSON.parse(JSON.stringify(x) ?? 'null');
        const b = JSON.parse(JSON.stringify(y) ?? 'null');
        fc.pre(canonicalJson(a) !== canonicalJson(b));
        expect(requestFingerprint('POST', '/t', a)).not.toBe(requestFingerprint('POST', '/t', b));
      }),
      { numRuns: fuzzRuns(300) },
    );
    const body = { items: [{ productid: 'A', quantity: 1 }] };
    const base = requestFingerprint('POST', '/api/v1/inventory/update', body);
    expect(requestFingerprint('PUT', '/api/v1/inventory/update', body)).not.toBe(base);
    expect(requestFingerprint('POST', '/api/v1/inventory/update/', body)).not.toBe(base);
    expect(
      requestFingerprint('POST', '/api/v1/inventory/update', {
        items: [{ productid: 'A', quantity: 2 }],
      }),
    ).not.toBe(base);
    expect(requestFingerprint('POST', '/api/v1/inventory/update', { items: [] })).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
