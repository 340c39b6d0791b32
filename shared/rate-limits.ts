/**
 * Rate-limit policies. Routes name theirs in the route table (`rateLimit`); the middleware
 * stack enforces it with a sliding window in Redis (`shared/cache/rate-limiter.ts`). Two
 * per-IP budgets run before authentication on every route but the health probes
 * (`shared/http/middleware/ip-limit.ts`), and login spends two failure budgets (`shared/users/service.ts`).
 */
export interface RateLimitPolicy {
  name: string;
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
  algorithm: 'sliding-window';
  /**
   * Whose budget a request spends: the signed-in user (the source IP when there is none),
   * the API Gateway source IP (never `X-Forwarded-For`), the IP and the e-mail tried, or the
   * e-mail tried whatever the IP (the account).
   */
  identity: 'user' | 'ip' | 'ip+email' | 'email';
  /** When Redis is unavailable: `open` lets requests through, `closed` answers 503. */
  failMode: 'open' | 'closed';
}

const policy = (p: Omit<RateLimitPolicy, 'algorithm'>): RateLimitPolicy => ({
  ...p,
  algorithm: 'sliding-window',
});

export const rateLimitPolicies = {
  /**
   * Every request of one source IP, before any token work. Fails open: it sheds floods, and
   * API Gateway's stage throttling still bounds them while Redis is down.
   */
  ipRequests: policy({
    name: 'ip-requests',
    limit: 1200,
    windowSeconds: 60,
    identity: 'ip',
    failMode: 'open',
  }),
  /**
   * Credentials one source IP presented that authentication refused (a malformed, invalid,
   * expired or revoked token: a 401 from authentication; a missing one is not counted).
   * Fails open: access tokens are signed (ES256) and keys carry 256 random bits, so this
   * budget sheds the cost of checking garbage rather than stopping a guess that could
   * succeed; failing closed would either make a Redis outage an outage of every signed-in
   * route or turn an expired token's 401 into a 503, and clients would not know to refresh.
   */
  ipRefusedCredentials: policy({
    name: 'ip-refused-credentials',
    limit: 60,
    windowSeconds: 60,
    identity: 'ip',
    failMode: 'open',
  }),
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
  /** Login attempts per IP. Closed, like the failure budgets it fronts. */
  login: policy({
    name: 'login',
    limit: 10,
    windowSeconds: 60,
    identity: 'ip',
    failMode: 'closed',
  }),
  refresh: policy({
    name: 'refresh',
    limit: 30,
    windowSeconds: 60,
    identity: 'ip',
    failMode: 'open',
  }),
  /**
   * Failed logins per IP and e-mail (OWASP Authentication Cheat Sheet: throttle guessing).
   * Taken before the password is checked and given back when it is right. Fails closed:
   * without it a Redis outage would be a free pass for password guessing.
   */
  loginFailures: policy({
    name: 'login-failures',
    limit: 5,
    windowSeconds: 900,
    identity: 'ip+email',
    failMode: 'closed',
  }),
  /**
   * Failed logins per account (the e-mail tried) from any IP, so spreading guesses over
   * many addresses does not multiply them. Same count as `loginFailures` over a shorter
   * window: everyone shares this budget, the owner included, so someone guessing elsewhere
   * can lock the owner out for at most 5 minutes after their last guess, while distributed
   * guessing stays at one per minute. Taken and given back like `loginFailures`; closed.
   */
  loginAccountFailures: policy({
    name: 'login-account-failures',
    limit: 5,
    windowSeconds: 300,
    identity: 'email',
    failMode: 'closed',
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
