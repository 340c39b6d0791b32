import { createHash } from 'node:crypto';
import {
  hashPassword,
  needsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from '../auth/passwords.js';
import {
  revokeRefreshFamily,
  rotateRefreshToken,
  startRefreshFamily,
} from '../auth/refresh-tokens.js';
import { revokeAccessToken } from '../auth/revocation.js';
import { issueAccessToken, type Principal, type Role } from '../auth/tokens.js';
import {
  type BudgetReceipt,
  giveBack,
  rateLimitHeaders,
  rateLimitsDisabled,
  takeBudgets,
} from '../cache/rate-limiter.js';
import { Conflict, NotFound, RateLimited, ServiceUnavailable, Unauthenticated } from '../errors.js';
import { rateLimitPolicies } from '../rate-limits.js';
import * as repository from './repository.js';
import type { TokenResponse, User } from './schemas.js';

function toUser(row: repository.UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Creates an account with role `user`. `email` is already lower-cased by the schema.
 * Errors: `Conflict` when the e-mail is taken (also under concurrent sign-ups: the unique
 * index decides, so exactly one succeeds).
 */
export async function register(input: {
  email: string;
  password: string;
  name?: string | undefined;
}): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  const row = await repository.insertUser({
    email: input.email,
    name: input.name ?? null,
    passwordHash,
  });
  if (!row) throw new Conflict('An account with this e-mail already exists.');
  return toUser(row);
}

/**
 * Takes one token from each login failure budget of `email` before its password is checked
 * (OWASP Authentication Cheat Sheet: throttle guessing): `loginFailures` (this IP and
 * e-mail, 5 per 15 min) and `loginAccountFailures` (the account from any IP, 5 per 5 min),
 * keyed by the e-mail's SHA-256 and taken all or nothing in one Redis call, so parallel
 * guesses can never outrun the budget. Returns what to give back when the password is
 * right; nothing when limits are off.
 * Errors: `RateLimited` (429) when a budget is spent; `ServiceUnavailable` (503 with
 * `Retry-After`) when Redis is unavailable (both fail closed).
 */
async function takeLoginAttempt(email: string, ip: string): Promise<BudgetReceipt | undefined> {
  if (rateLimitsDisabled()) return undefined;
  const account = createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
  // One hash tag per account: both budgets' keys sit in one Redis Cluster slot.
  const decision = await takeBudgets(`login:${account}`, [
    { policy: rateLimitPolicies.loginFailures, identity: ip },
    { policy: rateLimitPolicies.loginAccountFailures },
  ]);
  if (decision === 'unavailable') {
    throw new ServiceUnavailable('Sign-in is briefly unavailable. Try again shortly.');
  }
  if (decision.denied) {
    const { policy, decision: spent } = decision.denied;
    throw new RateLimited(spent.resetSeconds, rateLimitHeaders(policy, spent));
  }
  return decision.receipt;
}

/**
 * Checks e-mail and password and issues an access token. Unknown e-mail and wrong password
 * fail alike: same error, same body, the same budgets spent, and a dummy hash verification
 * so both take similar time (OWASP Authentication Cheat Sheet). Every attempt first takes a
 * token from the failure budgets (`takeLoginAttempt`); a right password gives it back, so
 * only failures count. Past 5 failures even the right password is refused until the
 * window frees up, without being checked.
 * Errors: `Unauthenticated`; `RateLimited` (429); `ServiceUnavailable` (503, Redis down).
 */
export async function login(
  input: { email: string; password: string },
  client: { ip: string },
): Promise<TokenResponse> {
  const receipt = await takeLoginAttempt(input.email, client.ip);
  let row: repository.UserRow | null;
  let valid: boolean;
  try {
    row = await repository.findUserByEmail(input.email);
    valid = row
      ? await verifyPassword(row.password_hash, input.password)
      : await verifyAgainstDummy(input.password);
  } catch (error) {
    // No password was judged (e.g. the database is down): the attempt costs nothing.
    if (receipt) await giveBack(receipt);
    throw error;
  }
  if (!row || !valid) throw new Unauthenticated('Incorrect e-mail or password.');
  if (receipt) await giveBack(receipt);
  if (needsRehash(row.password_hash)) {
    await repository.updatePasswordHash(row.id, await hashPassword(input.password));
  }
  return issueTokens(row, await startRefreshFamily(row.id));
}

async function issueTokens(
  user: { id: string; role: Role },
  refreshToken: string,
): Promise<TokenResponse> {
  const { token, expiresIn } = await issueAccessToken(user);
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: expiresIn,
    refresh_token: refreshToken,
  };
}

/**
 * Exchanges a refresh token for a new access token and a new refresh token (rotation; the
 * old one is spent). The access token carries the user's current role.
 * Errors: `Unauthenticated` for an unknown, used (the family is then revoked), revoked or
 * expired token, or a deleted user.
 */
export async function refresh(refreshToken: string): Promise<TokenResponse> {
  const rotated = await rotateRefreshToken(refreshToken);
  const user = await repository.findUserById(rotated.userId);
  if (!user) throw new Unauthenticated('The refresh token is invalid, used or expired.');
  return issueTokens(user, rotated.token);
}

/**
 * Logs out: the presented access token (its `jti`) stops working at once, and so does the
 * refresh token family of `refreshToken` when given. Returns false when the access token
 * could not be deny-listed (Redis unavailable; it then expires on its own within 15 min).
 */
export async function logout(principal: Principal, refreshToken?: string): Promise<boolean> {
  if (refreshToken) await revokeRefreshFamily(principal.userId, refreshToken);
  return revokeAccessToken(principal);
}

/** The user with this id. Errors: `NotFound` (the account was deleted). */
export async function getUser(id: string): Promise<User> {
  const row = await repository.findUserById(id);
  if (!row) throw new NotFound('The account no longer exists.');
  return toUser(row);
}

/** Sets a user's role (the admin command). Errors: `NotFound` for an unknown e-mail. */
export async function setRole(email: string, role: Role): Promise<User> {
  const row = await repository.updateRoleByEmail(email, role);
  if (!row) throw new NotFound(`No user has the e-mail ${email}.`);
  return toUser(row);
}
