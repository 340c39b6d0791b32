/**
 * Rate-limit policies. Routes name theirs in the route table (`rateLimit`); the middleware
 * stack enforces it with a sliding window in Redis (`shared/cache/rate-limiter.ts`).
 */
export interface RateLimitPolicy {
  name: string;
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
  algorithm: 'sliding-window';
  /**
   * Whose budget a request spends: the signed-in user (the source IP when there is none),
   * the API Gateway source IP (never `X-Forwarded-For`), or the IP and the e-mail tried.
   */
  identity: 'user' | 'ip' | 'ip+email';
  /** When Redis is unavailable: `open` lets requests through, `closed` answers 503. */
  failMode: 'open' | 'closed';
}

const policy = (p: Omit<RateLimitPolicy, 'algorithm'>): RateLimitPolicy => ({
  ...p,
  algorithm: 'sliding-window',
});

export const rateLimitPolicies = {
  /** Every signed-in route unless it says otherwise. */
  default: policy({
    name: 'default',
    limit: 300,
    windowSeconds: 60,
    identity: 'user',
    failMode: 'open',
  }),
  /** Public reads: docs, OpenAPI, JWKS, unknown paths. */
  public: policy({
    name: 'public',
    limit: 120,
    windowSeconds: 60,
    identity: 'ip',
    failMode: 'open',
  }),
  /** Sign-ups fail closed: spam sign-ups are worse than a sign-up retried later. */
  register: policy({
    name: 'register',
    limit: 5,
    windowSeconds: 60,
    identity: 'ip',
    failMode: 'closed',
  }),
  login: policy({ name: 'login', limit: 10, windowSeconds: 60, identity: 'ip', failMode: 'open' }),
  refresh: policy({
    name: 'refresh',
    limit: 30,
    windowSeconds: 60,
    identity: 'ip',
    failMode: 'open',
  }),
  /** Failed logins per IP and e-mail (OWASP Authentication Cheat Sheet: throttle guessing). */
  loginFailures: policy({
    name: 'login-failures',
    limit: 5,
    windowSeconds: 900,
    identity: 'ip+email',
    failMode: 'open',
  }),
  inventoryUpdate: policy({
    name: 'inventory-update',
    limit: 10,
    windowSeconds: 60,
    identity: 'user',
    failMode: 'open',
  }),
  inventoryQuery: policy({
    name: 'inventory-query',
    limit: 30,
    windowSeconds: 60,
    identity: 'user',
    failMode: 'open',
  }),
} satisfies Record<string, RateLimitPolicy>;
