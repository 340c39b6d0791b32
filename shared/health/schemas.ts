import { z } from 'zod';

const Probe = z.enum(['ok', 'unavailable', 'disabled']);

export const HealthStatus = z
  .object({ status: z.enum(['ok', 'unavailable']), db: Probe, redis: Probe })
  .meta({ id: 'HealthStatus' });

export const Liveness = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });

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
  .meta({ id: 'JsonWebKeySet' });
