import type * as core from 'zod/v4/core';
import { type FieldError, ValidationFailed } from '../../errors.js';
import type { RouteRequest } from '../route.js';
import { declaredFields, validate } from '../validation.js';
import type { Middleware } from './types.js';

/**
 * Validates the request against the route's zod schemas (`route.request`): the path
 * parameters, the query parameters and headers the route declares (others are ignored;
 * header names in lower case), and the body decoded by `body` (the `form` schema for a form
 * body). `validate` also refuses U+0000 anywhere (PostgreSQL cannot store it). Puts the
 * parsed values on `requestState.input`.
 * Errors: `ValidationFailed` (422) with every field error at once (at most 20 per location).
 */
export function validation(schemas: RouteRequest): Middleware {
  return {
    before: (request) => {
      const { event } = request;
      const state = request.context.requestState;
      const errors: FieldError[] = [];
      const input: NonNullable<typeof state.input> = {
        path: undefined,
        query: undefined,
        body: undefined,
      };
      if (schemas.path) {
        const result = validate(schemas.path, event.pathParameters ?? {}, 'path');
        if (result.ok) input.path = result.data;
        else errors.push(...result.errors);
      }
      if (schemas.query) {
        const read = declaredFields(schemas.query, event.queryStringParameters ?? {});
        const result = validate(schemas.query, read, 'query');
        if (result.ok) input.query = result.data;
        else errors.push(...result.errors);
      }
      if (schemas.headers) {
        const read = declaredFields(schemas.headers, event.headers ?? {});
        const result = validate(schemas.headers, read, 'header');
        if (!result.ok) errors.push(...result.errors);
      }
      if (schemas.body || schemas.form) {
        const schema = state.form ? (schemas.form ?? schemas.body) : (schemas.body ?? schemas.form);
        const result = validate(schema as core.$ZodType, state.body, 'body');
        if (result.ok) input.body = result.data;
        else errors.push(...result.errors);
      }
      if (errors.length) throw new ValidationFailed(errors);
      state.input = input;
    },
  };
}
