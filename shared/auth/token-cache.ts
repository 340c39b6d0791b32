import { CLOCK_TOLERANCE_SECONDS, type Principal, verifyAccessToken } from './tokens.js';

/** Most verified tokens one instance remembers (least recently used ones leave first). */
export const TOKEN_CACHE_SIZE = 1000;
/**
 * Longest time a verified token is trusted without verifying its signature again, in ms: a
 * key the rotation withdrew stops working on warm instances within this time.
 */
export const TOKEN_CACHE_MAX_AGE_MS = 60_000;

interface Entry {
  principal: Principal;
  /** Unix ms after which the entry is not used. */
  until: number;
}

/**
 * Verified access tokens of this instance, by the compact token itself (a string of ≤ 4 KiB:
 * comparing it whole rules out collisions). An entry lives until the token would stop
 * verifying (`exp` + the 30 s clock tolerance) and at most `TOKEN_CACHE_MAX_AGE_MS`. Only
 * the signature and claims checks are cached: the deny list is asked on every request
 * (`revocation.ts`), so a logout takes effect at once. A JavaScript `Map` keeps insertion
 * order, which makes the eviction least-recently-used by re-inserting on every hit.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly size = TOKEN_CACHE_SIZE,
    private readonly maxAgeMs = TOKEN_CACHE_MAX_AGE_MS,
    private readonly verify: (token: string) => Promise<Principal> = verifyAccessToken,
  ) {}

  /**
   * The principal of `token`, verified now or within the entry's lifetime.
   * Errors: those of `verifyAccessToken` (`Unauthenticated`, `ConfigError`,
   * `ServiceUnavailable`); a failure is never cached.
   */
  async principalOf(token: string, nowMs = Date.now()): Promise<Principal> {
    const hit = this.entries.get(token);
    if (hit) {
      this.entries.delete(token);
      if (hit.until > nowMs) {
        this.entries.set(token, hit);
        return hit.principal;
      }
    }
    const principal = await this.verify(token);
    const until = Math.min(
      (principal.expiresAt + CLOCK_TOLERANCE_SECONDS) * 1000,
      nowMs + this.maxAgeMs,
    );
    this.entries.set(token, { principal, until });
    while (this.entries.size > this.size) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return principal;
  }

  /** How many tokens are remembered. */
  get count(): number {
    return this.entries.size;
  }
}
