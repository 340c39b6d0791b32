import * as z from 'zod/mini';

const Probe = z.enum(['ok', 'unavailable', 'disabled']);

export const HealthStatus = z
  .object({ status: z.enum(['ok', 'unavailable']), db: Probe, redis: Probe })
  .register(z.globalRegistry, {
    id: 'HealthStatus',
    example: { status: 'ok', db: 'ok', redis: 'ok' },
  });

/**
 * The same body when a dependency is down (503), with its own example: a copy of `HealthStatus`
 * that inherits its metadata but its `id`, and is documented as `HealthStatus` plus these.
 */
export const HealthStatusUnavailable = HealthStatus.clone().register(z.globalRegistry, {
  id: 'HealthStatusUnavailable',
  description: 'At least one configured dependency did not answer within 1 s.',
  example: { status: 'unavailable', db: 'unavailable', redis: 'ok' },
});

export const Liveness = z
  .object({ status: z.literal('ok') })
  .register(z.globalRegistry, { id: 'Liveness', example: { status: 'ok' } });

export const JsonWebKeySet = z
  .object({
    keys: z.array(
      z.object({
        kty: z.string(),
        kid: z.string(),
        alg: z.string(),
        use: z.literal('sig'),
        crv: z.string(),
        x: z.string(),
        y: z.optional(z.string()),
      }),
    ),
  })
  .register(z.globalRegistry, {
    id: 'JsonWebKeySet',
    example: {
      keys: [
        {
          kty: 'EC',
          kid: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
          alg: 'ES256',
          use: 'sig',
          crv: 'P-256',
          x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
          y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
        },
      ],
    },
  });
