import { describe, expect, it } from 'vitest';
import { ADMIN_ONLY_SCOPES, API_KEY_SCOPES } from '../../shared/api-keys/schemas.js';
import { keyScopesOf } from '../../shared/http/route.js';
import { routeList } from '../../shared/routes/index.js';

describe('API-key scopes and the route table', () => {
  it('declares scopes only on signed-in database routes', () => {
    for (const route of routeList.filter((r) => r.apiKeyScope)) {
      expect(route.auth, route.path).not.toBe('public');
      expect(route.database, route.path).toBe(true);
    }
  });

  // Routes that take any one of several scopes (the job routes) say nothing about a scope's
  // role: their handler decides per request.
  it('ADMIN_ONLY_SCOPES are exactly the scopes whose every single-scope route is admin-only', () => {
    const adminOnly = API_KEY_SCOPES.filter((scope) => {
      const using = routeList.filter((r) => r.apiKeyScope === scope);
      return using.length > 0 && using.every((r) => r.auth === 'admin');
    });
    expect([...ADMIN_ONLY_SCOPES].sort()).toEqual(adminOnly.sort());
  });

  it('uses every scope on some route', () => {
    const used = new Set(routeList.flatMap((r) => keyScopesOf(r)));
    expect([...used].sort()).toEqual([...API_KEY_SCOPES].sort());
  });
});
