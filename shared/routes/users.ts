/** Routes of user accounts (the signed-in user); gathered by `./index.ts`. */
import { defineRoute, type RouteDefinition } from '../http/route.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';
import { User } from '../users/schemas.js';

export const usersRoutes = {
  me: defineRoute({
    method: 'GET',
    path: '/api/v1/users/me',
    function: 'users/me',
    errors: [404],
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'The signed-in user',
    tag: 'users',
    responses: { 200: User },
  }),
} satisfies Record<string, RouteDefinition>;
