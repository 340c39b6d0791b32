import { z } from 'zod';

/** RFC 9457 problem details as this API sends them (see `problem.ts`). */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    instance: z.string(),
    request_id: z.string(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string(), code: z.string() }))
      .optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.output<typeof Problem>;
