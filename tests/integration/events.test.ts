import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deployFunctions, functionFiles } from '../../infra/functions.js';
import { lambdaContext, loadHandler } from '../../infra/local/lambda.js';
import { fallbackRoute, routeList } from '../../shared/routes.js';

/** events/<area>-<action>.json for the function <area>/<action>. */
const eventFile = (fn: string) => `events/${fn.replace(/\//g, '-')}.json`;

describe('sample events (sam local invoke -e / npm run invoke)', () => {
  for (const route of [...routeList, fallbackRoute]) {
    it(`${route.function} has a realistic API Gateway v2 event that its handler answers`, async () => {
      const file = eventFile(route.function);
      expect(existsSync(file), `${file} is missing`).toBe(true);
      const event = JSON.parse(readFileSync(file, 'utf8'));
      expect(event.version).toBe('2.0');
      const expectedKey = route === fallbackRoute ? '$default' : `${route.method} ${route.path}`;
      expect(event.routeKey).toBe(expectedKey);
      const result = await (await loadHandler(route.function))(
        event,
        lambdaContext(route.function),
      );
      expect(result.headers['X-Request-ID']).toBeTruthy();
      if (route.auth !== 'public') {
        // The sample carries a placeholder token: `npm run invoke -- … --user <email>` swaps in a real one.
        expect(result.statusCode).toBe(401);
      } else if (route === fallbackRoute) {
        expect(result.statusCode).toBe(404);
      } else {
        expect(result.statusCode).toBeLessThan(500);
      }
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
