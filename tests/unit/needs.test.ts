import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  STACK_DEFINE_NAMES,
  type StackNeeds,
  stackDefines,
  stackNeeds,
} from '../../shared/http/needs.js';
import type { RouteDefinition, RouteRequest } from '../../shared/http/route.js';
import { IfMatchHeaders } from '../../shared/http/schemas.js';
import { rateLimitPolicies } from '../../shared/rate-limits.js';
import { routeList } from '../../shared/routes/index.js';
import { fuzzRuns } from './middleware/harness.js';

const name = (route: RouteDefinition) => `${route.method} ${route.path}`;

/** Whether `schema` (zod/mini or classic) is an object schema that declares the header `name`. */
function declaresHeader(schema: z.core.$ZodType | undefined, header: string): boolean {
  return schema instanceof z.core.$ZodObject && Object.hasOwn(schema._zod.def.shape, header);
}

/** What each need must be, read from the entry independently of `stackNeeds`. */
function expectedNeeds(route: RouteDefinition): StackNeeds {
  const request: RouteRequest = route.request ?? {};
  const schemas = [request.path, request.query, request.headers, request.body, request.form];
  return {
    databaseDeadline: route.database,
    ipLimit: route.rateLimit !== null,
    authentication: route.auth === 'user' || route.auth === 'admin',
    apiKey: (route.auth === 'user' || route.auth === 'admin') && route.apiKeyScope !== undefined,
    routeLimit: route.rateLimit !== null,
    redisRoundTrip: route.rateLimit !== null || route.auth !== 'public',
    body: request.body !== undefined || request.form !== undefined,
    validation: schemas.some((schema) => schema !== undefined),
    conditionalRequest: declaresHeader(request.headers, 'if-match'),
    idempotency: route.idempotency === true,
  };
}

describe('stackNeeds', () => {
  it('names, for every route of the table, exactly the middlewares its entry calls for', () => {
    expect(routeList.length).toBeGreaterThan(0);
    for (const route of routeList) {
      expect(stackNeeds(route), name(route)).toEqual(expectedNeeds(route));
    }
  });

  it('leaves the limits out only for the health probes, and authentication only on public routes', () => {
    const unlimited = routeList.filter((route) => !stackNeeds(route).ipLimit).map(name);
    expect(unlimited.sort()).toEqual(
      routeList
        .filter((route) => route.function.startsWith('health/'))
        .map(name)
        .sort(),
    );
    for (const route of routeList) {
      const needs = stackNeeds(route);
      expect(needs.ipLimit, name(route)).toBe(needs.routeLimit);
      // The Redis work of the stack (limits, deny list) always has its round trip.
      if (needs.ipLimit || needs.authentication)
        expect(needs.redisRoundTrip, name(route)).toBe(true);
      // A decoded body is always validated; If-Match is declared, so validated too.
      if (needs.body || needs.conditionalRequest) expect(needs.validation, name(route)).toBe(true);
      if (route.auth === 'public') expect(needs.authentication, name(route)).toBe(false);
    }
  });

  it('gives the conditional request middleware only to writes (unsafe methods) that declare If-Match', () => {
    const conditional = routeList.filter((route) => stackNeeds(route).conditionalRequest);
    expect(conditional.length).toBeGreaterThan(0);
    for (const route of conditional) {
      // POST too: an action on a resource (`POST /orders/{id}/transitions`) may be conditional.
      expect(['POST', 'PUT', 'PATCH', 'DELETE'], name(route)).toContain(route.method);
    }
  });

  it('is consistent with any entry, not only the table’s', () => {
    const schema = fc.constantFrom(undefined, z.object({ a: z.string() }));
    const entry = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE') as fc.Arbitrary<
        RouteDefinition['method']
      >,
      auth: fc.constantFrom('public', 'user', 'admin') as fc.Arbitrary<RouteDefinition['auth']>,
      database: fc.boolean(),
      rateLimit: fc.constantFrom(null, rateLimitPolicies.default, rateLimitPolicies.login),
      idempotency: fc.constantFrom(undefined, false, true),
      request: fc.option(
        fc.record(
          {
            path: schema,
            query: schema,
            headers: fc.constantFrom(
              undefined,
              IfMatchHeaders,
              z.object({ 'x-other': z.string() }),
            ),
            body: schema,
            form: schema,
          },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(entry, (parts) => {
        const route = {
          ...parts,
          path: '/t',
          function: 't/t',
          summary: 's',
          tag: 't',
          responses: { 200: null },
        } as RouteDefinition;
        expect(stackNeeds(route)).toEqual(expectedNeeds(route));
        const defines = stackDefines(route);
        for (const [need, value] of Object.entries(stackNeeds(route))) {
          expect(defines[STACK_DEFINE_NAMES[need as keyof StackNeeds]]).toBe(String(value));
        }
      }),
      { numRuns: fuzzRuns(200) },
    );
  });
});

describe('stackDefines', () => {
  it('tells the bundler every need of every route as "true" or "false"', () => {
    for (const route of routeList) {
      const defines = stackDefines(route);
      expect(Object.keys(defines).sort(), name(route)).toEqual(
        Object.values(STACK_DEFINE_NAMES).sort(),
      );
      for (const [need, value] of Object.entries(stackNeeds(route))) {
        expect(
          defines[STACK_DEFINE_NAMES[need as keyof StackNeeds]],
          `${name(route)} ${need}`,
        ).toBe(String(value));
      }
    }
  });

  it('names exactly the globals createHandler reads', () => {
    const source = readFileSync(new URL('../../shared/http/handler.ts', import.meta.url), 'utf8');
    const declared = [...source.matchAll(/declare const (STACK_NEEDS_\w+)/g)].map((m) => m[1]);
    expect(declared.sort()).toEqual(Object.values(STACK_DEFINE_NAMES).sort());
    for (const global of declared) {
      // Each is read where the stack is composed, not only declared.
      expect(source.split(global as string).length - 1, global).toBeGreaterThanOrEqual(3);
    }
  });
});
