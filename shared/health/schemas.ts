import * as z from 'zod';

const Probe = z.enum(['ok', 'unavailable', 'disabled']);

export const HealthStatus = z
  .object({ status: z.enum(['ok', 'unavailable']), db: Probe, redis: Probe })
  .meta({ id: 'HealthStatus', example: { status: 'ok', db: 'ok', redis: 'ok' } });

/** The same body when a dependency is down (503), with its own example. */
export const HealthStatusUnavailable = HealthStatus.meta({
  id: 'HealthStatusUnavailable',
  description: 'At least one configured dependency did not answer within 1 s.',
  example: { status: 'unavailable', db: 'unavailable', redis: 'ok' },
});

export const Liveness = z
  .object({ status: z.literal('ok') })
  .meta({ id: 'Liveness', example: { status: 'ok' } });

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
        y: z.string().optional(),
      }),
    ),
  })
  .meta({
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
