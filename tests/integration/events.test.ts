import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deployFunctions, functionFiles } from '../../infra/functions.js';
import { lambdaContext, loadHandler } from '../../infra/local/lambda.js';
import { getSql } from '../../shared/db/client.js';
import { fallbackRoute, routeList } from '../../shared/routes/index.js';
import { register } from '../../shared/users/service.js';

/** The account the register and login samples name. */
const SAMPLE_EMAIL = 'ada@example.com';
const SAMPLE_PASSWORD = 'correct horse battery';

/**
 * What each public route answers to its sample event, and what it needs first so that the
 * answer does not depend on which test ran before. Non-public samples carry a placeholder
 * token (401); `npm run invoke -- … --user <email>` swaps in a real one.
 */
const PUBLIC_SAMPLES: Record<string, { status: number; before?: () => Promise<unknown> }> = {
  'health/check': { status: 200 },
  'health/live': { status: 200 },
  'docs/openapi': { status: 200 },
  'docs/swagger-ui': { status: 200 },
  'docs/redoc': { status: 200 },
  'docs/asset': { status: 200 },
  'auth/jwks': { status: 200 },
  'auth/register': {
    status: 201,
    before: () => getSql()`DELETE FROM users WHERE email = ${SAMPLE_EMAIL}`,
  },
  'auth/login': {
    status: 200,
    before: () => register({ email: SAMPLE_EMAIL, password: SAMPLE_PASSWORD }).catch(() => null),
  },
  // The sample's refresh token was never issued.
  'auth/refresh': { status: 401 },
  'system/fallback': { status: 404 },
};

/** events/<area>-<action>.json for the function <area>/<action>. */
const eventFile = (fn: string) => `events/${fn.replace(/\//g, '-')}.json`;

describe('sample events (sam local invoke -e / npm run invoke)', () => {
  // One event per function: a function serving several routes has its first route's.
  const firstOfEach = [...routeList, fallbackRoute].filter(
    (route, i, all) => all.findIndex((r) => r.function === route.function) === i,
  );
  for (const route of firstOfEach) {
    it(`${route.function} has a realistic API Gateway v2 event that its handler answers`, async () => {
      const file = eventFile(route.function);
      expect(existsSync(file), `${file} is missing`).toBe(true);
      const event = JSON.parse(readFileSync(file, 'utf8'));
      expect(event.version).toBe('2.0');
      const expectedKey = route === fallbackRoute ? '$default' : `${route.method} ${route.path}`;
      expect(event.routeKey).toBe(expectedKey);
      const sample = route.auth === 'public' ? PUBLIC_SAMPLES[route.function] : { status: 401 };
      expect(sample, `no expected status for ${route.function}'s sample`).toBeDefined();
      await sample?.before?.();
      const result = await (await loadHandler(route.function))(
        event,
        lambdaContext(route.function),
      );
      expect(result.headers['X-Request-ID']).toBeTruthy();
      expect(result.statusCode).toBe(sample?.status);
    });
  }
});

describe('sample events for every deployed function', () => {
  it('has one file per function the stack deploys (routes, workers, relay, deploy-time)', () => {
    for (const fn of functionFiles()) expect(existsSync(eventFile(fn)), fn).toBe(true);
  });

  it('gives the deploy-time functions the payloads AWS sends them', () => {
    // The CDK trigger invokes the migration with no payload.
    expect(JSON.parse(readFileSync(eventFile(deployFunctions.migrate), 'utf8'))).toEqual({});
    // Secrets Manager calls the rotation function once per step.
    expect(JSON.parse(readFileSync(eventFile(deployFunctions.rotateSigningKeys), 'utf8'))).toEqual({
      SecretId: expect.stringMatching(/^arn:aws:secretsmanager:/),
      ClientRequestToken: expect.any(String),
      Step: 'createSecret',
    });
  });
});
