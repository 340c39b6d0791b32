import * as z from 'zod/mini';

/** RFC 9457 problem details as this API sends them (see `problem.ts`). */
export const Problem = z
  .object({
    type: z.string().register(z.globalRegistry, { example: 'about:blank' }),
    title: z.string().register(z.globalRegistry, { example: 'Unprocessable Entity' }),
    status: z.int().check(z.gte(400), z.lte(599)).register(z.globalRegistry, { example: 422 }),
    detail: z.string().register(z.globalRegistry, { example: 'The request is not valid.' }),
    instance: z.string().register(z.globalRegistry, { example: '/api/v1/notes' }),
    request_id: z
      .string()
      .register(z.globalRegistry, { example: '5f0c7a8e-2b1d-4c3e-9f6a-7b8c9d0e1f2a' }),
    errors: z
      .optional(z.array(z.object({ field: z.string(), message: z.string(), code: z.string() })))
      .register(z.globalRegistry, { description: 'One entry per invalid field (422 only).' }),
  })
  .register(z.globalRegistry, {
    id: 'Problem',
    example: {
      type: 'about:blank',
      title: 'Unprocessable Entity',
      status: 422,
      detail: 'The request is not valid.',
      instance: '/api/v1/notes',
      request_id: '5f0c7a8e-2b1d-4c3e-9f6a-7b8c9d0e1f2a',
      errors: [
        {
          field: 'title',
          message: 'Too small: expected string to have >=1 characters',
          code: 'too_small',
        },
      ],
    },
  });
export type Problem = z.output<typeof Problem>;

/**
 * The `If-Match` request header of conditional writes (RFC 9110 §13.1.1): optional; `*` or a
 * list of entity tags such as `"3"`. Validated here for size (and, like every input, for
 * U+0000); its syntax is checked by `parseIfMatch` (400), a stale version answers 412.
 */
export const IfMatchHeaders = z.object({
  'if-match': z.optional(z.string().check(z.maxLength(1000))).register(z.globalRegistry, {
    description:
      'Optional. The `ETag` of the version you read, e.g. `"3"` (or `*`, or a list): ' +
      'the write happens only if the resource is still at that version, else 412. ' +
      'Weak tags never match (strong comparison); a malformed value is 400.',
    example: '"3"',
  }),
});
