/** Routes of the health probes (readiness and liveness); gathered by `./index.ts`. */
import { HealthStatus, HealthStatusUnavailable, Liveness } from '../health/schemas.js';
import { defineRoute, type RouteDefinition } from '../http/route.js';

export const healthRoutes = {
  healthCheck: defineRoute({
    method: 'GET',
    path: '/health',
    function: 'health/check',
    auth: 'public',
    database: true,
    rateLimit: null,
    summary: 'Readiness: probes the database (and Redis when configured), each within 1 s',
    tag: 'operations',
    responses: { 200: HealthStatus, 503: HealthStatusUnavailable },
  }),
  healthLive: defineRoute({
    method: 'GET',
    path: '/health/live',
    function: 'health/live',
    auth: 'public',
    database: false,
    rateLimit: null,
    summary: 'Liveness: answers without touching any dependency',
    tag: 'operations',
    responses: { 200: Liveness },
  }),
} satisfies Record<string, RouteDefinition>;
