import { STATUS_CODES } from 'node:http';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { buildOpenApiDocument, errorStatuses } from '../../shared/docs/openapi.js';
import { keyScopesOf, type RouteDefinition } from '../../shared/http/route.js';
import { Problem } from '../../shared/http/schemas.js';
import { routeList, routes } from '../../shared/routes/index.js';
import { TIMESTAMP_MAX_LENGTH, TIMESTAMP_PATTERN } from '../../shared/schemas.js';

// biome-ignore lint/suspicious/noExplicitAny: the document is plain JSON
type Json = any;

const doc: Json = JSON.parse(
  JSON.stringify(buildOpenApiDocument(routes, { title: 'T', version: '9.9.9', description: 'D' })),
);
const visible = routeList.filter((route) => !route.hidden);
const operationOf = (route: RouteDefinition): Json =>
  doc.paths[route.path][route.method.toLowerCase()];
const label = (route: RouteDefinition) => `${route.method} ${route.path}`;
const RATE_LIMIT_HEADERS = [
  'RateLimit-Policy',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
];

/** Follows a local `$ref` (`#/components/schemas/Note`), keeping sibling keywords. */
function resolve(schema: Json): Json {
  if (!schema?.$ref) return schema;
  const target = schema.$ref
    .split('/')
    .slice(1)
    .reduce((node: Json, key: string) => node[key], doc);
  const { $ref: _ref, ...siblings } = schema;
  return { ...resolve(target), ...siblings };
}

/** Every (property name, schema) pair below `schema`, refs followed once each. */
function properties(schema: Json, seen = new Set<Json>()): [string, Json][] {
  const node = resolve(schema);
  if (!node || typeof node !== 'object' || seen.has(node)) return [];
  seen.add(node);
  const found: [string, Json][] = [];
  for (const [name, child] of Object.entries<Json>(node.properties ?? {})) {
    found.push([name, resolve(child)], ...properties(child, seen));
  }
  for (const key of ['items', 'additionalProperties']) {
    if (typeof node[key] === 'object') found.push(...properties(node[key], seen));
  }
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    for (const child of node[key] ?? []) found.push(...properties(child, seen));
  }
  return found;
}

/** Request schemas of a route in the document: parameters by name, body fields by name. */
function requestFields(route: RouteDefinition): [string, Json][] {
  const operation = operationOf(route);
  const params: [string, Json][] = (operation.parameters ?? []).map((p: Json) => [
    p.name,
    resolve(p.schema),
  ]);
  const bodies = Object.values<Json>(operation.requestBody?.content ?? {});
  return [...params, ...bodies.flatMap((media) => properties(media.schema))];
}

function responseSchemas(route: RouteDefinition): Json[] {
  return Object.values<Json>(operationOf(route).responses).flatMap((response) =>
    Object.values<Json>(response.content ?? {})
      .map((media) => media.schema)
      .filter(Boolean),
  );
}

function isZod(value: unknown): value is z.core.$ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

describe('OpenAPI document: what the server does, for every route of the table', () => {
  it('documents 503 (problem+json with Retry-After) on every route that uses the database', () => {
    const databaseRoutes = visible.filter((route) => route.database);
    expect(databaseRoutes.map((r) => r.function)).toContain('notes/get');
    for (const route of databaseRoutes) {
      const response = operationOf(route).responses['503'];
      expect(response, label(route)).toBeDefined();
      // Health has its own 503 body; every other route answers problem+json.
      if (!route.responses[503]) {
        expect(response.content['application/problem+json'], label(route)).toBeDefined();
      }
      expect(response.headers['Retry-After'], label(route)).toMatchObject({
        required: true,
        schema: { type: 'integer' },
      });
    }
  });

  it('documents 429 with Retry-After and RateLimit-*, and RateLimit-* on every success', () => {
    for (const route of visible.filter((r) => r.rateLimit)) {
      const { responses } = operationOf(route);
      const limited = responses['429'];
      expect(limited?.headers?.['Retry-After']?.required, label(route)).toBe(true);
      for (const status of Object.keys(route.responses).filter((s) => Number(s) < 300)) {
        for (const header of RATE_LIMIT_HEADERS) {
          expect(limited.headers[header], `${label(route)} 429 ${header}`).toBeDefined();
          expect(responses[status].headers?.[header], `${label(route)} ${status}`).toBeDefined();
        }
      }
      expect(limited.headers['RateLimit-Policy'].schema.example).toBe(
        `${route.rateLimit?.limit};w=${route.rateLimit?.windowSeconds}`,
      );
    }
    for (const route of visible.filter((r) => !r.rateLimit)) {
      expect(operationOf(route).responses['429'], label(route)).toBeUndefined();
    }
  });

  it('declares an optional If-Match header and 412 on every PUT and PATCH', () => {
    const writes = visible.filter((route) => route.method === 'PUT' || route.method === 'PATCH');
    expect(writes.length).toBeGreaterThan(0);
    for (const route of writes) {
      const operation = operationOf(route);
      const ifMatch = operation.parameters.find(
        (p: Json) => p.in === 'header' && p.name.toLowerCase() === 'if-match',
      );
      expect(ifMatch, label(route)).toBeDefined();
      expect(ifMatch.required ?? false).toBe(false);
      expect(ifMatch.schema.type).toBe('string');
      expect(operation.responses['412'], label(route)).toBeDefined();
    }
  });

  it('declares the optional Idempotency-Key header, Idempotent-Replayed and 400/409/422 on exactly the idempotent routes', () => {
    const idempotent = visible.filter((route) => route.idempotency);
    expect(idempotent.map(label)).toContain('POST /api/v1/inventory/update');
    for (const route of visible) {
      const operation = operationOf(route);
      const header = (operation.parameters ?? []).find(
        (p: Json) => p.in === 'header' && p.name === 'Idempotency-Key',
      );
      if (!route.idempotency) {
        expect(header, label(route)).toBeUndefined();
        continue;
      }
      expect(header, label(route)).toBeDefined();
      expect(header.required ?? false).toBe(false);
      expect(header.schema).toMatchObject({ type: 'string', minLength: 1, maxLength: 255 });
      const pattern = new RegExp(header.schema.pattern);
      expect(pattern.test('8e03978e-40d5-43e8-bc93-6894a57f9324 ~')).toBe(true);
      expect(pattern.test('clé')).toBe(false);
      expect(pattern.test('tab\t')).toBe(false);
      for (const status of ['400', '409', '422']) {
        expect(operation.responses[status], `${label(route)} ${status}`).toBeDefined();
      }
      for (const [status, response] of Object.entries<Json>(operation.responses)) {
        if (Number(status) < 300 || status === '409' || status === '422') {
          expect(
            response.headers?.['Idempotent-Replayed'],
            `${label(route)} ${status}`,
          ).toBeDefined();
        }
      }
    }
  });

  it('requires at least one field in every PATCH body', () => {
    for (const route of visible.filter((r) => r.method === 'PATCH')) {
      const body = resolve(operationOf(route).requestBody.content['application/json'].schema);
      expect(body.minProperties, label(route)).toBeGreaterThanOrEqual(1);
    }
  });

  it('marks every e-mail field as format: email (requests and responses)', () => {
    let emails = 0;
    for (const route of visible) {
      const fields = [
        ...requestFields(route),
        ...responseSchemas(route).flatMap((schema) => properties(schema)),
      ];
      for (const [name, schema] of fields) {
        if (name !== 'email' && name !== 'username') continue;
        emails++;
        expect(schema.format, `${label(route)} ${name}`).toBe('email');
      }
    }
    expect(emails).toBeGreaterThan(3);
  });

  it('gives every timestamp in its real pattern and maximum length, and every one out date-time', () => {
    let inputs = 0;
    for (const route of visible) {
      for (const [name, schema] of requestFields(route)) {
        if (!/timestamp|_at$/.test(name)) continue;
        inputs++;
        expect(schema.pattern, `${label(route)} ${name}`).toBe(TIMESTAMP_PATTERN.source);
        expect(schema.maxLength).toBe(TIMESTAMP_MAX_LENGTH);
      }
      for (const schema of responseSchemas(route)) {
        for (const [name, field] of properties(schema)) {
          if (!/timestamp|_at$/.test(name)) continue;
          expect(field.format ?? field.anyOf?.[0]?.format, `${label(route)} ${name}`).toBe(
            'date-time',
          );
        }
      }
    }
    expect(inputs).toBeGreaterThanOrEqual(3);
  });

  it('has the OAuth2 password flow with its token and refresh URLs, which accept its forms', () => {
    const { password } = doc.components.securitySchemes.oauth2.flows;
    const byFunction = (fn: string) => visible.find((route) => route.function === fn);
    for (const [url, fn] of [
      [password.tokenUrl, 'auth/login'],
      [password.refreshUrl, 'auth/refresh'],
    ]) {
      const route = byFunction(fn);
      expect(route?.path).toBe(url);
      if (!route) continue;
      expect(
        operationOf(route).requestBody.content['application/x-www-form-urlencoded'],
        url,
      ).toBeDefined();
    }
  });

  it('has a server entry, and info from the caller', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info.version).toBe('9.9.9');
  });

  it('documents exactly the error statuses each route can answer, each with a matching Problem example', () => {
    for (const route of visible) {
      const { responses } = operationOf(route);
      for (const status of errorStatuses(route)) {
        const response = responses[String(status)];
        expect(response, `${label(route)} ${status}`).toBeDefined();
        const media = response.content['application/problem+json'];
        if (!media) continue; // a route's own error body (health 503)
        const example = Problem.parse(media.example);
        expect(example.status, `${label(route)} ${status}`).toBe(status);
        expect(example.title).toBe(STATUS_CODES[status]);
        expect(example.detail.length).toBeGreaterThan(10);
        if (status === 422) expect(example.errors?.length).toBeGreaterThan(0);
      }
    }
  });

  it('has an example on every component schema, and each one passes its own zod schema', () => {
    for (const [name, schema] of Object.entries<Json>(doc.components.schemas)) {
      expect(schema.example, name).toBeDefined();
    }
    for (const route of routeList) {
      const request = route.request ?? {};
      const schemas = [
        ...Object.values(route.responses).filter(isZod),
        ...[request.body, request.form].filter(isZod),
      ];
      for (const schema of schemas) {
        const { example } = z.globalRegistry.get(schema) ?? {};
        if (example === undefined) continue;
        const result = z.safeParse(schema, example);
        expect(result.success, `${label(route)}: ${result.error?.message}`).toBe(true);
      }
    }
  });

  it('has no meaningless bounds (such as -2^53 for a page limit)', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain(String(Number.MIN_SAFE_INTEGER));
  });
});

describe('OpenAPI document: API keys', () => {
  it('has an apiKey scheme (X-API-Key) next to the token ones', () => {
    expect(doc.components.securitySchemes.apiKey).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
    });
    expect(doc.security).toEqual([{ oauth2: [] }, { bearerAuth: [] }]);
  });

  it('lists on each operation what it accepts, and the scope a key needs', () => {
    for (const route of routeList) {
      if (route.hidden) continue;
      const op = doc.paths[route.path][route.method.toLowerCase()];
      if (route.auth === 'public') {
        expect(op.security, route.path).toEqual([]);
      } else if (route.apiKeyScope) {
        expect(op.security, route.path).toEqual([
          { oauth2: [] },
          { bearerAuth: [] },
          ...keyScopesOf(route).map((scope) => ({ apiKey: [scope] })),
        ]);
        for (const scope of keyScopesOf(route))
          expect(op.description, route.path).toContain(`\`${scope}\``);
      } else {
        expect(op.security, route.path).toBeUndefined();
        expect(op.description, route.path).toContain('an API key gets 403');
      }
    }
  });
});
