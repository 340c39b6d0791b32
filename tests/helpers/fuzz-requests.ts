/**
 * Request generators of the fuzz suite, driven by one route-table entry: schema-valid
 * requests from the route's zod schemas (`validRequest`), and malformed ones made from a
 * valid one by one mutation (`malformedRequest`): wrong types, oversized strings and arrays,
 * odd unicode and raw bytes, deep nesting, unknown and duplicate keys, broken JSON, odd
 * content types and charsets, odd query strings and path segments, odd headers.
 * Each request says what it is (`label`) and, where the contract pins the answer beyond what
 * the bytes show, the rule (`rule`); the oracle in `fuzz-contract.ts` does the rest.
 */
import fc from 'fast-check';
import * as core from 'zod/v4/core';
import type { RouteDefinition } from '../../shared/http/route.js';
import { resolveRoute } from '../../shared/routes/index.js';
import type { Generated, Rule } from './fuzz-contract.js';
import { encodeQuery, percentEncode, type WireRequest } from './fuzz-http.js';
import {
  inputBase,
  inputKind,
  lengthBounds,
  ODD_CHARACTERS,
  objectKeys,
  schemaAt,
  zodArbitrary,
} from './zod-arbitrary.js';

type JsonPath = (string | number)[];
type Headers = Record<string, string | string[]>;

/** A request before it is put on the wire: decoded parts, so mutations can work on them. */
export interface Draft {
  route: RouteDefinition;
  /** Path parameter values, decoded (they are percent-encoded on the wire). */
  path: Record<string, string>;
  query: [string, string][];
  headers: Headers;
  body?: { kind: 'json'; value: unknown } | { kind: 'form'; value: Record<string, string> };
}

/** Realistic values mixed into the generated ones (ids that exist, real tokens, …). */
export interface Hints {
  /** Path parameters, instead of generated ones. */
  path?: fc.Arbitrary<Record<string, string>>;
  /** Query parameters laid over the generated ones. */
  query?: fc.Arbitrary<Record<string, string>>;
  /** Headers laid over the generated ones. */
  headers?: fc.Arbitrary<Record<string, string>>;
  /** A whole JSON body, instead of a generated one. */
  body?: fc.Arbitrary<unknown>;
  /** A whole form body, instead of a generated one. */
  form?: fc.Arbitrary<Record<string, string>>;
}

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** A value as text, as a query string, form or header carries it. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Values as a query string, form, path or header carries them: text, with lone surrogates
 * as U+FFFD (percent-encoding has only UTF-8 bytes, which cannot hold them; JSON can).
 */
function textRecord(value: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, text(item).replace(LONE_SURROGATE, '\ufffd')]),
  );
}

/** Header values may hold visible ASCII and spaces only (RFC 9110 §5.5), trimmed. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '').trim();
}

function oneOf<T>(generated: fc.Arbitrary<T>, hint: fc.Arbitrary<T> | undefined): fc.Arbitrary<T> {
  return hint ? fc.oneof(generated, hint) : generated;
}

function laidOver(
  generated: fc.Arbitrary<Record<string, string>>,
  hint: fc.Arbitrary<Record<string, string>> | undefined,
): fc.Arbitrary<Record<string, string>> {
  if (!hint) return generated;
  return fc
    .tuple(generated, fc.option(hint, { freq: 2 }))
    .map(([base, over]) => ({ ...base, ...(over ?? {}) }));
}

/** A valid `X-Request-ID` (API.md: 1–128 of `[A-Za-z0-9._-]`), or none. */
const requestIdHeader = fc.option(fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/), { freq: 3 });

/** A schema-valid draft for `route`, with `hints` mixed in. */
export function validDraft(route: RouteDefinition, hints: Hints = {}): fc.Arbitrary<Draft> {
  const request = route.request ?? {};
  const path = request.path
    ? oneOf(zodArbitrary(request.path).map(textRecord), hints.path)
    : fc.constant({});
  const query = request.query
    ? laidOver(zodArbitrary(request.query).map(textRecord), hints.query)
    : fc.constant({});
  const headers = request.headers
    ? laidOver(
        zodArbitrary(request.headers).map((value) =>
          Object.fromEntries(Object.entries(textRecord(value)).map(([k, v]) => [k, headerSafe(v)])),
        ),
        hints.headers,
      )
    : fc.constant({});
  const bodies: fc.Arbitrary<Draft['body']>[] = [];
  if (request.body) {
    bodies.push(
      oneOf(zodArbitrary(request.body) as fc.Arbitrary<unknown>, hints.body).map((value) => ({
        kind: 'json' as const,
        value,
      })),
    );
  }
  if (request.form) {
    bodies.push(
      oneOf(zodArbitrary(request.form).map(textRecord), hints.form).map((value) => ({
        kind: 'form' as const,
        value,
      })),
    );
  }
  const body = bodies.length ? fc.oneof(...bodies) : fc.constant(undefined);
  const jsonType = fc.constantFrom(
    JSON_TYPE,
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
  );
  return fc
    .record({ path, query, headers, body, jsonType, requestId: requestIdHeader })
    .map((parts) => {
      const draftHeaders: Headers = { ...parts.headers };
      if (parts.requestId) draftHeaders['x-request-id'] = parts.requestId;
      if (parts.body?.kind === 'form') draftHeaders['content-type'] = FORM_TYPE;
      else if (parts.body && parts.body.value !== undefined)
        draftHeaders['content-type'] = parts.jsonType;
      return {
        route,
        path: parts.path,
        query: Object.entries(parts.query),
        headers: draftHeaders,
        ...(parts.body ? { body: parts.body } : {}),
      };
    });
}

/** The raw path of `draft`: its template with each parameter percent-encoded. */
function rawPath(draft: Draft, raw: Record<string, string> = {}): string {
  return draft.route.path.replace(/\{(\w+)\+?\}/g, (_match, name: string) =>
    raw[name] !== undefined ? raw[name] : percentEncode(draft.path[name] ?? ''),
  );
}

function bodyBytes(draft: Draft): Buffer | undefined {
  const body = draft.body;
  if (!body) return undefined;
  if (body.kind === 'form') return Buffer.from(encodeQuery(Object.entries(body.value)));
  return body.value === undefined ? undefined : Buffer.from(JSON.stringify(body.value));
}

/** `draft` on the wire, with parts replaced as given. */
function toWire(
  draft: Draft,
  over: { path?: string; query?: string; headers?: Headers; body?: Buffer | null } = {},
): WireRequest {
  const query = over.query ?? encodeQuery(draft.query);
  const body = over.body === null ? undefined : (over.body ?? bodyBytes(draft));
  return {
    method: draft.route.method,
    target: `${over.path ?? rawPath(draft)}${query ? `?${query}` : ''}`,
    headers: over.headers ?? draft.headers,
    ...(body !== undefined ? { body } : {}),
  };
}

/** A schema-valid request for `route`. */
export function validRequest(route: RouteDefinition, hints: Hints = {}): fc.Arbitrary<Generated> {
  return validDraft(route, hints).map((draft) => ({ wire: toWire(draft), label: 'valid' }));
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

const SPLICE = '\u0001fuzz-splice\u0001';

/** Paths of every node of a JSON value (the root is `[]`), at most `limit` of them. */
function jsonPaths(value: unknown, limit = 200): JsonPath[] {
  const paths: JsonPath[] = [];
  const pending: [unknown, JsonPath][] = [[value, []]];
  while (pending.length && paths.length < limit) {
    const [node, path] = pending.shift() as [unknown, JsonPath];
    paths.push(path);
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) pending.push([item, [...path, i]]);
    } else if (node && typeof node === 'object')
      for (const [key, item] of Object.entries(node)) pending.push([item, [...path, key]]);
  }
  return paths;
}

function valueAt(value: unknown, path: JsonPath): unknown {
  let node = value;
  for (const key of path) node = (node as Record<string | number, unknown> | undefined)?.[key];
  return node;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON text of `root` with the node at `path` (created if missing) written as `raw`. */
function spliceJson(root: unknown, path: JsonPath, raw: string): string {
  if (!path.length) return raw;
  const copy = structuredClone(root ?? {}) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1] as string | number] = SPLICE;
  return JSON.stringify(copy).replace(JSON.stringify(SPLICE), () => raw);
}

/** JSON text of an object with `key: raw` added first or last (keys like `__proto__` stay own). */
function objectWithKey(object: Record<string, unknown>, key: string, raw: string, first: boolean) {
  const rest = JSON.stringify(object);
  const entry = `${JSON.stringify(key)}:${raw}`;
  if (rest === '{}') return `{${entry}}`;
  return first ? `{${entry},${rest.slice(1)}` : `${rest.slice(0, -1)},${entry}}`;
}

/** Paths in `value` where `schema` describes a node of kind `kind` (existing or not yet sent). */
function schemaPaths(
  schema: core.$ZodType | undefined,
  value: unknown,
  kinds: string[],
): JsonPath[] {
  const found: JsonPath[] = [];
  const visit = (node: core.$ZodType, at: unknown, path: JsonPath, depth: number) => {
    if (depth > 6) return;
    const kind = inputKind(node);
    if (kinds.includes(kind)) found.push(path);
    if (kind === 'object') {
      for (const key of objectKeys(node)) {
        const field = schemaAt(node, [key]);
        if (field) visit(field, isPlainObject(at) ? at[key] : undefined, [...path, key], depth + 1);
      }
    } else if (kind === 'array' && Array.isArray(at) && at.length) {
      const element = schemaAt(node, [0]);
      if (element) visit(element, at[0], [...path, 0], depth + 1);
    }
  };
  if (schema) visit(schema, value, [], 0);
  return found;
}

function pick<T>(items: readonly T[]): fc.Arbitrary<T> {
  return fc.constantFrom(...items);
}

/** Any JSON value of another type than `value` has. */
function otherType(value: unknown): fc.Arbitrary<unknown> {
  const all: [string, fc.Arbitrary<unknown>][] = [
    ['number', fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))],
    ['boolean', fc.boolean()],
    ['null', fc.constant(null)],
    ['string', fc.oneof(fc.string({ maxLength: 8 }), pick(['', '1', 'true', 'null', '[]', '{}']))],
    ['array', fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })],
    [
      'object',
      fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    ],
  ];
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return fc.oneof(...all.filter(([name]) => name !== type).map(([, arbitrary]) => arbitrary));
}

/** Strings longer than `max` (by one, double, or far beyond), of 1-, 2- and 4-byte characters. */
function oversized(max: number): fc.Arbitrary<string> {
  const lengths = Number.isFinite(max) ? [max + 1, 2 * max + 1, 200_000] : [200_000];
  return fc
    .tuple(pick(lengths), pick(['a', 'é', '😀', ' ', '\u0000']))
    .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));
}

/** Insert `odd` into `value` at a position. */
function withOdd(value: string): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.nat({ max: value.length }),
      fc.array(pick(ODD_CHARACTERS), { minLength: 1, maxLength: 3 }),
    )
    .map(([at, odd]) => `${value.slice(0, at)}${odd.join('')}${value.slice(at)}`);
}

/** Bytes that are not UTF-8: a lone continuation byte, an overlong `.`, a surrogate, beyond U+10FFFF, cut short. */
const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0x80],
  [0xc0, 0xae],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
];

// ---------------------------------------------------------------------------------------------
// Mutations. Each turns a valid draft into arbitraries of malformed requests, or none when it
// does not apply to the route.

/** A mutation's requests; a weighted one (`HEAVY`) is drawn less often than the others (4). */
type Mutation = (draft: Draft) => (fc.Arbitrary<Generated> | fc.WeightedArbitrary<Generated>)[];

/** Weight of the mutations that send a megabyte or get several back: rare, they are slow. */
const HEAVY = 1;
const NORMAL = 4;

function jsonBody(draft: Draft): unknown {
  return draft.body?.kind === 'json' ? draft.body.value : undefined;
}

function withJson(draft: Draft, raw: string | Buffer, contentType = JSON_TYPE): WireRequest {
  return toWire(draft, {
    headers: { ...draft.headers, 'content-type': contentType },
    body: typeof raw === 'string' ? Buffer.from(raw) : raw,
  });
}

const hasJsonBody = (draft: Draft) => Boolean(draft.route.request?.body);
const label = (path: JsonPath) => (path.length ? path.join('.') : 'the root');

const wrongType: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const value = jsonBody(draft);
  return [
    pick(jsonPaths(value)).chain((path) =>
      otherType(valueAt(value, path)).map((replacement) => ({
        wire: withJson(draft, spliceJson(value, path, JSON.stringify(replacement))),
        label: `body: wrong type at ${label(path)}`,
      })),
    ),
  ];
};

const oversizedString: Mutation = (draft) => {
  const schema = draft.route.request?.body;
  if (!schema) return [];
  const value = jsonBody(draft);
  const paths = schemaPaths(schema, value, ['string']);
  if (!paths.length) return [];
  return [
    pick(paths).chain((path) => {
      const field = schemaAt(schema, path);
      const { maxLength } = lengthBounds(field ? inputBase(field) : schema);
      return oversized(maxLength).map((long) => ({
        wire: withJson(draft, spliceJson(value, path, JSON.stringify(long))),
        label: `body: oversized string at ${label(path)}`,
      }));
    }),
  ];
};

const oversizedArray: Mutation = (draft) => {
  const schema = draft.route.request?.body;
  if (!schema) return [];
  const value = jsonBody(draft);
  const paths = schemaPaths(schema, value, ['array']).filter((path) => {
    const field = schemaAt(schema, path);
    return field && Number.isFinite(lengthBounds(inputBase(field)).maxLength);
  });
  if (!paths.length) return [];
  return [
    pick(paths).map((path) => {
      const field = schemaAt(schema, path) as core.$ZodType;
      const { maxLength } = lengthBounds(inputBase(field));
      const existing = valueAt(value, path);
      const items = Array.isArray(existing) && existing.length ? existing : [{}];
      const long = Array.from({ length: maxLength + 1 }, (_, i) => items[i % items.length]);
      return {
        wire: withJson(draft, spliceJson(value, path, JSON.stringify(long))),
        label: `body: oversized array at ${label(path)}`,
      };
    }),
  ];
};

const oddUnicode: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const value = jsonBody(draft);
  const paths = jsonPaths(value).filter((path) => typeof valueAt(value, path) === 'string');
  if (!paths.length) return [];
  return [
    pick(paths).chain((path) =>
      withOdd(valueAt(value, path) as string).map((odd) => ({
        wire: withJson(draft, spliceJson(value, path, JSON.stringify(odd))),
        label: `body: odd unicode in ${label(path)}`,
      })),
    ),
  ];
};

const invalidUtf8: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const value = jsonBody(draft);
  const paths = jsonPaths(value).filter((path) => typeof valueAt(value, path) === 'string');
  if (!paths.length) return [];
  return [
    fc.tuple(pick(paths), pick(INVALID_UTF8)).map(([path, bytes]) => {
      const [before = '', after = ''] = spliceJson(value, path, `"${SPLICE}"`).split(SPLICE);
      return {
        wire: withJson(
          draft,
          Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]),
        ),
        label: `body: bytes that are not UTF-8 in ${label(path)}`,
      };
    }),
  ];
};

const deepNesting: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const value = jsonBody(draft);
  return [
    fc
      .tuple(pick(jsonPaths(value)), pick([64, 5_000, 100_000]), fc.boolean())
      .map(([path, depth, arrays]) => {
        const raw = arrays
          ? `${'['.repeat(depth)}${']'.repeat(depth)}`
          : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        return {
          wire: withJson(draft, spliceJson(value, path, raw)),
          label: `body: ${arrays ? 'arrays' : 'objects'} nested ${depth} deep at ${label(path)}`,
        };
      }),
  ];
};

const UNKNOWN_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'id',
  'owner_id',
  'role',
  'version',
  'archived_at',
  '',
  'Title',
  'title\u0000',
  '\u202etitle',
];

const unknownKey: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const value = jsonBody(draft) ?? {};
  const objects = jsonPaths(value).filter((path) => isPlainObject(valueAt(value, path)));
  if (!objects.length) return [];
  return [
    fc
      .tuple(
        pick(objects),
        fc.oneof(pick(UNKNOWN_KEYS), fc.string({ maxLength: 8 })),
        fc.jsonValue({ maxDepth: 1 }),
        fc.boolean(),
      )
      .map(([path, key, extra, first]) => {
        const object = valueAt(value, path) as Record<string, unknown>;
        const raw = objectWithKey(
          object,
          key,
          JSON.stringify(key === '__proto__' ? { polluted: 'yes' } : extra),
          first,
        );
        return {
          wire: withJson(draft, spliceJson(value, path, raw)),
          label: `body: unknown key ${JSON.stringify(key)} at ${label(path)}`,
        };
      }),
  ];
};

/**
 * A strict object with very many unknown keys, each one a field error: does the 422 stay
 * small? (Keys in base 36: 100,000 of them take 890 kB, within the 1 MiB body limit.)
 */
const manyUnknownKeys: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const value = jsonBody(draft);
  const root = isPlainObject(value) ? value : {};
  const keys = 100_000;
  const extra = () => Array.from({ length: keys }, (_, i) => `"${i.toString(36)}":0`).join(',');
  const rest = JSON.stringify(root);
  return [
    {
      weight: HEAVY,
      arbitrary: fc.constant(null).map(() => ({
        wire: withJson(draft, rest === '{}' ? `{${extra()}}` : `{${extra()},${rest.slice(1)}`),
        label: `body: ${keys} unknown keys`,
      })),
    },
  ];
};

const duplicateKey: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const value = jsonBody(draft);
  const objects = jsonPaths(value).filter((path) => {
    const node = valueAt(value, path);
    return isPlainObject(node) && Object.keys(node).length > 0;
  });
  if (!objects.length) return [];
  return [
    pick(objects).chain((path) => {
      const object = valueAt(value, path) as Record<string, unknown>;
      return fc
        .tuple(pick(Object.keys(object)), fc.jsonValue({ maxDepth: 1 }), fc.boolean())
        .map(([key, other, first]) => ({
          wire: withJson(
            draft,
            spliceJson(value, path, objectWithKey(object, key, JSON.stringify(other), first)),
          ),
          label: `body: duplicate key ${JSON.stringify(key)} (the ${first ? 'first' : 'last'} of two) at ${label(path)}`,
        }));
    }),
  ];
};

const EDGE_NUMBERS = [
  '1e309',
  '-1e309',
  '-0',
  '0.5',
  '1.0',
  '1e2',
  '2147483648',
  '-1',
  '9007199254740993',
  '1E400',
  '0x10',
  '01',
  'NaN',
  '1_000',
  '.5',
  '+1',
];

const edgeNumber: Mutation = (draft) => {
  const schema = draft.route.request?.body;
  if (!schema) return [];
  const value = jsonBody(draft);
  const paths = schemaPaths(schema, value, ['integer', 'number']);
  if (!paths.length) return [];
  return [
    fc.tuple(pick(paths), pick(EDGE_NUMBERS)).map(([path, raw]) => ({
      wire: withJson(draft, spliceJson(value, path, raw)),
      label: `body: number ${raw} at ${label(path)}`,
    })),
  ];
};

const BROKEN_JSON: readonly [string, (json: string, at: number) => string][] = [
  ['cut short', (json, at) => json.slice(0, Math.max(1, at % json.length))],
  ['trailing garbage', (json) => `${json}}`],
  [
    'trailing comma',
    (json) => (json.endsWith('}') && json !== '{}' ? `${json.slice(0, -1)},}` : `${json},`),
  ],
  ['single quotes', (json) => json.replaceAll('"', "'")],
  ['a comment', (json) => `/* c */${json}`],
  ['two documents', (json) => `${json}${json}`],
  ['a raw NUL', (json) => `${json}\u0000`],
  ['whitespace only', () => ' \n\t '],
  ['a lone brace', () => '{'],
  ['NaN', () => 'NaN'],
  ['undefined', () => 'undefined'],
  ['an unquoted key', (json) => json.replace(/"(\w+)":/, '$1:')],
  ['an unterminated string', (json) => json.replace(/"([^"]*)"$/, '"$1')],
  ['a control character in a string', (json) => json.replace(/"([^"]*)"/, '"$1\u0001"')],
  ['a bad escape', (json) => json.replace(/"([^"]*)"/, '"$1\\x41"')],
  ['a lone surrogate escape', (json) => json.replace(/"([^"]*)"/, '"$1\\ud800"')],
  ['a leading BOM', (json) => `\ufeff${json}`],
];

const brokenJson: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const json = JSON.stringify(jsonBody(draft) ?? {});
  return [
    fc.tuple(pick(BROKEN_JSON), fc.nat()).map(([[name, breakIt], at]) => ({
      wire: withJson(draft, breakIt(json, at)),
      label: `body: broken JSON (${name})`,
      // RFC 8259 §8.1 lets a parser ignore a BOM or refuse it; an escaped lone surrogate is JSON.
      ...(name === 'a leading BOM' || name === 'a lone surrogate escape' ? { lenient: true } : {}),
    })),
  ];
};

const NON_OBJECT_BODIES = ['null', '[]', '"x"', '123', 'true', '[{}]', '""', '{}'];

const nonObjectBody: Mutation = (draft) =>
  hasJsonBody(draft)
    ? [
        pick(NON_OBJECT_BODIES).map((raw) => ({
          wire: withJson(draft, raw),
          label: `body: top-level ${raw}`,
        })),
      ]
    : [];

/** Content types: refused ones, JSON ones with odd spelling, parameters and charsets. */
const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'text/json',
  'application/jsonx',
  'json',
  '',
  '*/*',
  'application/*',
  'multipart/form-data; boundary=x',
  FORM_TYPE,
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/problem+json',
  'APPLICATION/JSON',
  'application/json ; charset = utf-8',
  'application/json; charset="utf-8"',
  'application/json; Charset=UTF-8',
  'application/json; charset=utf-16',
  'application/json; charset=utf-16le',
  'application/json; charset=iso-8859-1',
  'application/json; charset=latin1',
  'application/json; charset=windows-1252',
  'application/json; charset=shift_jis',
  'application/json; charset=utf-7',
  'application/json; charset=ebcdic-cp-us',
  'application/json; charset=',
  'application/json; charset=utf-8; charset=utf-16',
  'application/json; boundary=x',
  'application/json;;',
];

/**
 * Content types whose handling the contract leaves open: other `+json` types (RFC 6839 calls
 * them JSON; a server may still want `application/json` itself), spaces around `=` (not
 * allowed by RFC 9110 §5.6.6, tolerated by some), an empty or repeated `charset`.
 */
const UNPINNED_CONTENT_TYPES = new Set([
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/problem+json',
  'application/json ; charset = utf-8',
  'application/json; charset=',
  'application/json; charset=utf-8; charset=utf-16',
  'application/json;;',
]);

const contentType: Mutation = (draft) => {
  const request = draft.route.request ?? {};
  if (!request.body && !request.form) return [];
  const bytes = bodyBytes(draft) ?? Buffer.from('{}');
  return [
    fc.oneof(
      pick(CONTENT_TYPES).map((type) => ({
        wire: toWire(draft, { headers: { ...draft.headers, 'content-type': type }, body: bytes }),
        label: `content type ${JSON.stringify(type)}`,
        ...(UNPINNED_CONTENT_TYPES.has(type) ? { lenient: true } : {}),
      })),
      fc.constant({
        wire: toWire(draft, { headers: withoutHeader(draft.headers, 'content-type'), body: bytes }),
        label: 'no content type',
      }),
      fc.constant({
        wire: toWire(draft, {
          headers: { ...draft.headers, 'content-type': ['text/plain', JSON_TYPE] },
          body: bytes,
        }),
        label: 'two content types (text/plain first)',
      }),
    ),
  ];
};

function withoutHeader(headers: Headers, name: string): Headers {
  const copy = { ...headers };
  delete copy[name];
  return copy;
}

const otherEncoding: Mutation = (draft) => {
  if (!hasJsonBody(draft)) return [];
  const json = JSON.stringify(jsonBody(draft) ?? {});
  const cases: [string, Buffer, string][] = [
    [
      'UTF-16LE with BOM, labelled',
      Buffer.from(`\ufeff${json}`, 'utf16le'),
      'application/json; charset=utf-16',
    ],
    ['UTF-16LE, unlabelled', Buffer.from(json, 'utf16le'), JSON_TYPE],
    [
      'Latin-1, labelled',
      Buffer.from(json.replace('"', '"é'), 'latin1'),
      'application/json; charset=iso-8859-1',
    ],
    ['Latin-1, unlabelled', Buffer.from(json.replace('"', '"é'), 'latin1'), JSON_TYPE],
  ];
  return [
    pick(cases).map(([name, bytes, type]) => ({
      wire: withJson(draft, bytes, type),
      label: `body: ${name}`,
    })),
  ];
};

const absentBody: Mutation = (draft) => {
  const request = draft.route.request ?? {};
  if (!request.body && !request.form) return [];
  return [
    fc.boolean().map((keepType) => ({
      wire: toWire(draft, {
        headers: keepType
          ? { ...draft.headers, 'content-type': JSON_TYPE }
          : withoutHeader(draft.headers, 'content-type'),
        body: null,
      }),
      label: `no body${keepType ? ' (with a JSON content type)' : ''}`,
    })),
  ];
};

const overLimitBody: Mutation = (draft) => {
  const request = draft.route.request ?? {};
  if (!request.body && !request.form) return [];
  return [
    {
      weight: HEAVY,
      arbitrary: fc.constantFrom(1024 * 1024 + 1, 3 * 1024 * 1024).map((size) => {
        const json = JSON.stringify(jsonBody(draft) ?? {});
        return {
          wire: withJson(draft, json.padEnd(size, ' ')),
          label: `body: ${size} bytes (over 1 MiB)`,
        };
      }),
    },
  ];
};

const formMutation: Mutation = (draft) => {
  if (!draft.route.request?.form) return [];
  const base = encodeQuery(Object.entries(draft.body?.kind === 'form' ? draft.body.value : {}));
  const cases: [string, string][] = [
    ['a duplicate key', `${base}&password=x`],
    ['an unknown key', `${base}&role=admin`],
    ['a NUL', `${base}%00`],
    ['an invalid escape', `${base}%ZZ`],
    ['a lone surrogate', `${base}%ED%A0%80`],
    ['array syntax', `${base}&username[]=a@b.co`],
    ['semicolons', base.replaceAll('&', ';')],
    ['empty pairs', `&&${base}&&=&`],
    ['plus signs', base.replaceAll('%40', '+%40+')],
    ['only a key', 'username'],
    ['a JSON text', JSON.stringify({ username: 'a@b.co', password: 'x' })],
  ];
  return [
    pick(cases).map(([name, raw]) => ({
      wire: toWire(draft, {
        headers: { ...draft.headers, 'content-type': FORM_TYPE },
        body: Buffer.from(raw),
      }),
      label: `form: ${name}`,
    })),
  ];
};

/** Integers a query string must refuse: not plain digits (sign, exponent, hex, spaces, fraction, other digits). */
export const NON_DECIMAL_INTEGERS = [
  '0x10',
  '0b1',
  '0o7',
  '1e1',
  '1E2',
  ' 5',
  '5 ',
  '+5',
  '-0',
  '-5',
  '5.0',
  '5.',
  '.5',
  '',
  'Infinity',
  'NaN',
  '٥',
  '５',
  '1_000',
  '1,2',
  '5e-0',
];
/**
 * Strings that are almost right, or that break naive code: timestamps just outside what the
 * API accepts (offsets past ±15:59, year 0 and 10000, leap second, February 30, 24:00, seven
 * fractional digits, a space for `T`), numbers in strings, prototype keys, injection
 * payloads, e-mail edge cases, characters that case-fold or trim differently.
 */
export const TRICKY_STRINGS = [
  '2024-01-01T00:00:00+16:00',
  '2024-01-01T00:00:00-23:59',
  '2024-01-01T00:00:00+24:00',
  '0000-01-01T00:00:00Z',
  '10000-01-01T00:00:00Z',
  '2024-12-31T23:59:60Z',
  '2024-02-30T00:00:00Z',
  '2024-01-01T24:00:00Z',
  '2024-01-01T00:00:00.1234567Z',
  '2024-01-01 00:00:00Z',
  '2024-01-01',
  '0001-01-01T00:00:00+00:01',
  '9999-12-31T23:59:59-00:01',
  '1e3',
  '0x10',
  'constructor',
  '__proto__',
  '',
  ' ',
  'null',
  '-0',
  '../../etc/passwd',
  "' OR 1=1 --",
  '$(reboot)',
  '{{7*7}}',
  '<script>alert(1)</script>',
  'a@b',
  'A@B.CO',
  'user@[127.0.0.1]',
  '"quoted"@example.com',
  'ü@example.com',
  `${'a'.repeat(65)}@example.com`,
  'ＡＢＣ',
  'İ',
  'ß',
  '\u00a0',
  '\u3000',
  '\u200b',
  '\ufeffa',
];

const QUERY_JUNK = [
  'true',
  'TRUE',
  'null',
  'undefined',
  '[]',
  '{}',
  'abc',
  ' ',
  '\u0000',
  '\ud800',
  '\u202e',
  '👩‍💻',
  '%',
  '99999999999999999999',
  '-1',
  '1e309',
  'ALL',
  'Desc',
  '0',
  '101',
  '501',
  '100001',
  '4294967296',
];

function isIntegerParam(schema: core.$ZodType | undefined): boolean {
  if (!schema) return false;
  return ['1', '7', '42'].some((digits) => typeof core.safeParse(schema, digits).data === 'number');
}

const queryMutations: Mutation = (draft) => {
  const schema = draft.route.request?.query;
  if (!schema) return [];
  const keys = objectKeys(schema);
  const integerKeys = keys.filter((key) => isIntegerParam(schemaAt(schema, [key])));
  const replace = (key: string, value: string): [string, string][] => [
    ...draft.query.filter(([k]) => k !== key),
    [key, value],
  ];
  const out: fc.Arbitrary<Generated>[] = [
    fc
      .tuple(pick(keys), fc.oneof(pick(QUERY_JUNK), fc.string({ maxLength: 6 })))
      .map(([key, value]) => ({
        wire: toWire(draft, { query: encodeQuery(replace(key, value)) }),
        label: `query: odd value for ${key}`,
      })),
    fc.tuple(pick(keys), fc.option(fc.string({ maxLength: 6 }))).map(([key, other]) => {
      const existing = draft.query.find(([k]) => k === key)?.[1] ?? '1';
      return {
        wire: toWire(draft, {
          query: encodeQuery([...draft.query, [key, existing], [key, other ?? existing]]),
        }),
        label: `query: ${key} repeated`,
      };
    }),
    fc
      .tuple(
        pick([
          '__proto__',
          'constructor',
          'toString',
          'hasOwnProperty',
          'valueOf',
          'limit[]',
          'q[a]',
          '',
        ]),
        fc.string({ maxLength: 6 }),
      )
      .map(([key, value]) => ({
        wire: toWire(draft, { query: encodeQuery([...draft.query, [key, value]]) }),
        label: `query: unknown parameter ${JSON.stringify(key)}`,
      })),
    fc
      .tuple(
        pick(keys),
        pick(['%00', '%ED%A0%80', '%ZZ', '%', '%C0%AE', '%FF', '+', '%2B', '%E2%80%AE', '\u00e9']),
      )
      .map(([key, raw]) => {
        const existing = draft.query.find(([k]) => k === key)?.[1] ?? '';
        const others = draft.query.filter(([k]) => k !== key);
        const query = [
          encodeQuery(others),
          `${percentEncode(key)}=${percentEncode(existing)}${raw}`,
        ]
          .filter(Boolean)
          .join('&');
        return {
          wire: toWire(draft, { query }),
          label: `query: raw ${JSON.stringify(raw)} in ${key}`,
        };
      }),
    fc.tuple(pick(keys), pick([2049, 5000])).map(([key, length]) => ({
      wire: toWire(draft, { query: encodeQuery(replace(key, 'a'.repeat(length))) }),
      label: `query: ${length}-character ${key}`,
    })),
    fc.constant({
      wire: toWire(draft, { query: encodeQuery([...draft.query, ['pad', 'a'.repeat(12_000)]]) }),
      label: 'query: over the gateway quota (12 KB)',
    }),
    pick(['&&', '=', '&=&', 'limit', 'limit=', '==', '?', '&x']).map((raw) => ({
      wire: toWire(draft, { query: [encodeQuery(draft.query), raw].filter(Boolean).join('&') }),
      label: `query: odd syntax ${JSON.stringify(raw)}`,
    })),
  ];
  const required = keys.filter((key) => !schemaAt(schema, [key])?._zod.optin);
  if (required.length) {
    out.push(
      pick(required).map((key) => ({
        wire: toWire(draft, { query: encodeQuery(draft.query.filter(([k]) => k !== key)) }),
        label: `query: required ${key} missing`,
      })),
    );
  }
  if (integerKeys.length) {
    out.push(
      fc.tuple(pick(integerKeys), pick(NON_DECIMAL_INTEGERS)).map(([key, value]) => ({
        wire: toWire(draft, { query: encodeQuery(replace(key, value)) }),
        label: `query: integer ${key} as ${JSON.stringify(value)}`,
        rule: {
          stage: 'validation',
          statuses: [422],
          why: 'an integer in a query string is plain decimal digits',
        } satisfies Rule,
      })),
    );
  }
  return out;
};

/** Path segments that break naive routing and lookups, as sent (already percent-encoded). */
export const ODD_SEGMENTS = [
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '%00',
  'a%00b',
  '..',
  '.',
  '%2e%2e',
  '%2E',
  '.%2e',
  '%2F',
  '%2f..%2f',
  '..%2F..%2Fetc%2Fpasswd',
  '%5C..%5C',
  '~',
  '%ZZ',
  '%',
  '%C0%AE%C0%AE',
  '%ED%A0%80',
  '%F0%9F%92%A9',
  '%E2%80%AE',
  '%EF%BB%BF',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '%20',
  '+',
  ';',
  ';x=1',
  'a'.repeat(300),
  '%25',
  '*',
  '@',
  ':',
  '!',
  "'",
];

const pathMutations: Mutation = (draft) => {
  const names = Object.keys(draft.path);
  const out: fc.Arbitrary<Generated>[] = [];
  if (names.length) {
    out.push(
      fc.tuple(pick(names), pick(ODD_SEGMENTS)).map(([name, segment]) => ({
        wire: toWire(draft, { path: rawPath(draft, { [name]: segment }) }),
        label: `path: ${name} = ${segment.length > 20 ? `${segment.slice(0, 20)}…` : segment}`,
      })),
      fc
        .tuple(pick(names), pick(['upper', 'braces', 'no dashes', 'NUL', 'space', '.json', 'odd']))
        .chain(([name, how]) => {
          const value = draft.path[name] ?? '';
          const variants: Record<string, fc.Arbitrary<string>> = {
            upper: fc.constant(percentEncode(value.toUpperCase())),
            braces: fc.constant(`%7B${percentEncode(value)}%7D`),
            'no dashes': fc.constant(percentEncode(value.replaceAll('-', ''))),
            NUL: fc.constant(`${percentEncode(value)}%00`),
            space: fc.constant(`%20${percentEncode(value)}`),
            '.json': fc.constant(`${percentEncode(value)}.json`),
            odd: withOdd(value).map(percentEncode),
          };
          return (variants[how] as fc.Arbitrary<string>).map((segment) => ({
            wire: toWire(draft, { path: rawPath(draft, { [name]: segment }) }),
            label: `path: ${name} ${how}`,
          }));
        }),
    );
  }
  const path = rawPath(draft);
  const shapes: [string, string][] = [
    ['a trailing slash', `${path}/`],
    ['a double slash', `/${path}`],
    ['an inner double slash', path.replace(/\/([^/]*)$/, '//$1')],
    ['upper case', path.toUpperCase()],
    ['a dot segment', path.replace(/^\/([^/]+)/, '/$1/.')],
    ['a dot-dot segment', path.replace(/^\/([^/]+)/, '/$1/x/..')],
    ['an encoded slash', path.replace(/(.)\/([^/]*)$/, '$1%2F$2')],
    ['a NUL suffix', `${path}%00`],
    ['a matrix parameter', `${path};a=1`],
    ['an extra segment', `${path}/extra`],
    ['absolute form', `http://example.com${path}`],
  ];
  out.push(
    pick(shapes).map(([name, raw]) => ({
      wire: toWire(draft, { path: raw }),
      label: `path: ${name}`,
    })),
  );
  return out;
};

/** `If-Match` values (RFC 9110 §13.1.1): well-formed ones, and malformed ones (400). */
const WELL_FORMED_IF_MATCH = ['*', '"1"', '"1", "2"', 'W/"1"', '"999999"', '""', '"1",  W/"2"'];
const MALFORMED_IF_MATCH = [
  '1',
  '"1',
  'W/1',
  '"a b"',
  ',',
  '"1",',
  'W/',
  '**',
  'W/"1" "2"',
  '"1"x',
];

const ifMatch: Mutation = (draft) => {
  if (!objectKeys(draft.route.request?.headers).includes('if-match')) return [];
  return [
    pick(WELL_FORMED_IF_MATCH).map((value) => ({
      wire: toWire(draft, { headers: { ...draft.headers, 'if-match': value } }),
      label: `If-Match ${value}`,
    })),
    pick(MALFORMED_IF_MATCH).map((value) => ({
      wire: toWire(draft, { headers: { ...draft.headers, 'if-match': value } }),
      label: `If-Match ${value} (malformed)`,
      rule: {
        stage: 'handler',
        statuses: [400],
        why: 'a malformed If-Match is 400',
      } satisfies Rule,
    })),
    fc.constant({
      wire: toWire(draft, { headers: { ...draft.headers, 'if-match': `"${'1'.repeat(1001)}"` } }),
      label: 'If-Match over 1000 characters',
    }),
  ];
};

const trickyString: Mutation = (draft) => {
  const request = draft.route.request ?? {};
  const out: fc.Arbitrary<Generated>[] = [];
  const value = jsonBody(draft);
  const paths = request.body ? schemaPaths(request.body, value, ['string']) : [];
  if (paths.length) {
    out.push(
      fc.tuple(pick(paths), pick(TRICKY_STRINGS)).map(([path, tricky]) => ({
        wire: withJson(draft, spliceJson(value, path, JSON.stringify(tricky))),
        label: `body: ${label(path)} = ${JSON.stringify(tricky)}`,
      })),
    );
  }
  const keys = objectKeys(request.query);
  if (keys.length) {
    out.push(
      fc.tuple(pick(keys), pick(TRICKY_STRINGS)).map(([key, tricky]) => ({
        wire: toWire(draft, {
          query: encodeQuery([...draft.query.filter(([k]) => k !== key), [key, tricky]]),
        }),
        label: `query: ${key} = ${JSON.stringify(tricky)}`,
      })),
    );
  }
  const names = Object.keys(draft.path);
  if (names.length) {
    out.push(
      fc.tuple(pick(names), pick(TRICKY_STRINGS.filter(Boolean))).map(([name, tricky]) => ({
        wire: toWire(draft, { path: rawPath(draft, { [name]: percentEncode(tricky) }) }),
        label: `path: ${name} = ${JSON.stringify(tricky)}`,
      })),
    );
  }
  return out;
};

/** A body where the route takes none (GET, DELETE, bodiless POST): it must be ignored or refused. */
const unexpectedBody: Mutation = (draft) => {
  const request = draft.route.request ?? {};
  if (request.body || request.form) return [];
  const bodies: [string, string][] = [
    [JSON_TYPE, '{"title":"x","__proto__":{"polluted":"yes"}}'],
    [JSON_TYPE, '{"broken":'],
    [FORM_TYPE, 'a=1&a=2'],
    ['text/plain', 'hello'],
    ['application/octet-stream', '\u0000\u0001'],
  ];
  return [
    pick(bodies).map(([type, raw]) => ({
      wire: toWire(draft, {
        headers: { ...draft.headers, 'content-type': type },
        body: Buffer.from(raw),
      }),
      label: `a ${type} body where the route takes none`,
      alsoAllowed: [400, 413, 415],
    })),
    fc.constant({
      wire: toWire(draft, { headers: { ...draft.headers, 'x-http-method-override': 'DELETE' } }),
      label: 'X-HTTP-Method-Override: DELETE',
    }),
  ];
};

const MUTATIONS: Mutation[] = [
  trickyString,
  unexpectedBody,
  wrongType,
  oversizedString,
  oversizedArray,
  oddUnicode,
  invalidUtf8,
  deepNesting,
  unknownKey,
  manyUnknownKeys,
  duplicateKey,
  edgeNumber,
  brokenJson,
  nonObjectBody,
  contentType,
  otherEncoding,
  absentBody,
  overLimitBody,
  formMutation,
  queryMutations,
  pathMutations,
  ifMatch,
];

/** Odd header add-ons that change nothing the contract pins (or only the request id). */
const HEADER_ODDITIES: readonly [string, (headers: Headers) => Headers][] = [
  ['X-Request-ID of 129 characters', (h) => ({ ...h, 'x-request-id': 'a'.repeat(129) })],
  ['X-Request-ID of 128 characters', (h) => ({ ...h, 'x-request-id': 'b'.repeat(128) })],
  ['X-Request-ID with a space', (h) => ({ ...h, 'x-request-id': 'a b' })],
  ['X-Request-ID with a slash', (h) => ({ ...h, 'x-request-id': '../etc' })],
  ['X-Request-ID with Latin-1', (h) => ({ ...h, 'x-request-id': 'caf\u00e9' })],
  ['an empty X-Request-ID', (h) => ({ ...h, 'x-request-id': '' })],
  ['two X-Request-IDs', (h) => ({ ...h, 'x-request-id': ['first-id', 'second-id'] })],
  ['Accept: application/xml', (h) => ({ ...h, accept: 'application/xml' })],
  ['Accept: application/json;q=0', (h) => ({ ...h, accept: 'application/json;q=0' })],
  ['Accept-Charset: utf-16', (h) => ({ ...h, 'accept-charset': 'utf-16' })],
  ['X-Forwarded-For: 10.0.0.1', (h) => ({ ...h, 'x-forwarded-for': '10.0.0.1, 1.2.3.4' })],
  ['an Origin that is not allowed', (h) => ({ ...h, origin: 'https://evil.example' })],
  ['a Cookie', (h) => ({ ...h, cookie: 'session=1; __proto__=x' })],
  ['a 4 KB header', (h) => ({ ...h, 'x-padding': 'p'.repeat(4096) })],
];

/**
 * A malformed request for `route`: a valid one (with `hints`) changed by one mutation that
 * applies to the route, sometimes with an odd header on top, sometimes sent chunked.
 */
export function malformedRequest(
  route: RouteDefinition,
  hints: Hints = {},
): fc.Arbitrary<Generated> {
  return validDraft(route, hints)
    .chain((draft) =>
      fc.oneof(
        ...MUTATIONS.flatMap((mutation) => mutation(draft)).map((arbitrary) =>
          'weight' in arbitrary ? arbitrary : { weight: NORMAL, arbitrary },
        ),
      ),
    )
    .chain((generated) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(generated) },
        {
          weight: 1,
          arbitrary: pick(HEADER_ODDITIES).map(([name, change]) => ({
            ...generated,
            wire: { ...generated.wire, headers: change(generated.wire.headers) },
            label: `${generated.label}; ${name}`,
          })),
        },
        ...(generated.wire.body && ['POST', 'PUT', 'PATCH'].includes(generated.wire.method)
          ? [
              {
                weight: 1,
                arbitrary: fc.constant({
                  ...generated,
                  wire: { ...generated.wire, chunked: true },
                  label: `${generated.label}; chunked`,
                }),
              },
            ]
          : []),
      ),
    );
}

/** Methods the fuzz sends to paths (HEAD is left out: its answers carry no body to check). */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'];
const PATH_WORDS = [
  'api',
  'v1',
  'notes',
  'users',
  'me',
  'auth',
  'login',
  'health',
  'live',
  'docs',
  'assets',
  'admin',
  'inventory',
  'restore',
  'openapi.json',
  '.well-known',
  'jwks.json',
  'v2',
  'API',
];

/** A route-table path with its parameters filled in (raw, percent-encoded). */
function concretePath(route: RouteDefinition, value: string): string {
  return route.path.replace(/\{(\w+)\+?\}/g, () => percentEncode(value));
}

/**
 * Requests for the fallback (`$default`) route: paths no route has, and known paths with a
 * method they do not have. `malformed` makes the paths odd: dot segments, encoded slashes and
 * NULs, `constructor`, very long, absolute form, `*`.
 */
export function fallbackRequest(
  routes: readonly RouteDefinition[],
  malformed: boolean,
): fc.Arbitrary<Generated> {
  const word = malformed
    ? fc.oneof(
        pick(PATH_WORDS),
        pick(ODD_SEGMENTS),
        fc.string({ unit: 'grapheme', maxLength: 6 }).map(percentEncode),
      )
    : fc.oneof(pick(PATH_WORDS), fc.stringMatching(/^[a-z0-9-]{1,12}$/));
  const unknownPath = fc
    .tuple(pick(METHODS), fc.array(word, { minLength: 1, maxLength: 6 }), fc.boolean())
    .map(([method, segments, slash]) => ({
      wire: { method, target: `/${segments.join('/')}${slash ? '/' : ''}`, headers: {} },
      label: `${method} on a generated path`,
    }));
  const wrongMethod = fc
    .tuple(pick(routes), pick(METHODS), fc.uuid())
    // A method no route has on that path (PUT on /notes/{id} is a route of its own).
    .filter(([route, method, id]) => {
      const resolved = resolveRoute(method, concretePath(route, id));
      return resolved !== null && 'allow' in resolved;
    })
    .map(([route, method, id]) => ({
      wire: { method, target: concretePath(route, id), headers: {} },
      label: `${method} on ${route.path}`,
    }));
  if (!malformed) return fc.oneof(unknownPath, wrongMethod);
  const odd: [string, string][] = [
    ['a long path', `/${'a/'.repeat(1500)}`],
    ['a long segment', `/${'x'.repeat(5000)}`],
    ['the asterisk form', '*'],
    ['absolute form', 'http://example.com/nowhere'],
    ['absolute form without a path', 'http://example.com'],
    ['a path of dots', '/../../..'],
    ['an encoded traversal', '/docs/assets/..%2F..%2Fpackage.json'],
    ['a traversal to a route', '/api/v1/notes/../users/me'],
    ['a NUL', '/health%00'],
    ['a double slash', '//health'],
    ['a backslash', '/health%5Clive'],
    ['a query only', '/?a=1'],
  ];
  return fc.oneof(
    unknownPath,
    wrongMethod.map((generated) => ({
      ...generated,
      wire: { ...generated.wire, target: `${generated.wire.target}/..` },
      label: `${generated.label}, then /..`,
    })),
    fc.tuple(pick(odd), pick(METHODS)).map(([[name, target], method]) => ({
      wire: { method, target, headers: {} },
      label: `${method} with ${name}`,
    })),
  );
}
