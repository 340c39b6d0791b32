/** Routes of authentication (JWKS, register, login, refresh, logout); gathered by `./index.ts`. */
import { JsonWebKeySet } from '../health/schemas.js';
import { defineRoute, type RouteDefinition } from '../http/route.js';
import { rateLimitPolicies as limits } from '../rate-limits.js';
import {
  LoginBody,
  LoginForm,
  LogoutBody,
  RefreshBody,
  RefreshForm,
  RegisterBody,
  TokenResponse,
  User,
} from '../users/schemas.js';

export const authRoutes = {
  jwks: defineRoute({
    method: 'GET',
    path: '/.well-known/jwks.json',
    function: 'auth/jwks',
    auth: 'public',
    database: false,
    rateLimit: limits.public,
    summary: 'Public keys that verify access tokens (RFC 7517 JWK Set)',
    tag: 'auth',
    responses: { 200: JsonWebKeySet },
  }),
  register: defineRoute({
    method: 'POST',
    path: '/api/v1/auth/register',
    function: 'auth/register',
    errors: [409],
    auth: 'public',
    database: true,
    rateLimit: limits.register,
    summary: 'Create an account',
    description: 'E-mail is stored lower-cased and unique; 409 when it is taken.',
    tag: 'auth',
    request: { body: RegisterBody },
    responses: { 201: User },
    responseHeaders: { Location: 'URL of the current user, `/api/v1/users/me`.' },
  }),
  login: defineRoute({
    method: 'POST',
    path: '/api/v1/auth/login',
    function: 'auth/login',
    errors: [401],
    auth: 'public',
    database: true,
    signsTokens: true,
    rateLimit: limits.login,
    summary: 'Exchange e-mail and password for an access token',
    description:
      'JSON `{email, password}` or the OAuth 2.0 password-grant form `username=…&password=…`. ' +
      'Unknown e-mail and wrong password give the same 401.',
    tag: 'auth',
    request: { body: LoginBody, form: LoginForm },
    responses: { 200: TokenResponse },
  }),
  refresh: defineRoute({
    method: 'POST',
    path: '/api/v1/auth/refresh',
    function: 'auth/refresh',
    errors: [401],
    auth: 'public',
    database: true,
    signsTokens: true,
    rateLimit: limits.refresh,
    summary: 'Exchange a refresh token for a new token pair (rotation)',
    description:
      'JSON `{refresh_token}` or the OAuth 2.0 refresh form `grant_type=refresh_token&' +
      'refresh_token=…`. Refresh tokens are single use. Presenting one that was already used ' +
      'revokes its whole family (every token descended from the same login): 401, log in again.',
    tag: 'auth',
    request: { body: RefreshBody, form: RefreshForm },
    responses: { 200: TokenResponse },
  }),
  logout: defineRoute({
    method: 'POST',
    path: '/api/v1/auth/logout',
    function: 'auth/logout',
    auth: 'user',
    database: true,
    rateLimit: limits.default,
    summary: 'Log out: this access token and the given refresh token family stop working',
    tag: 'auth',
    request: { body: LogoutBody },
    responses: { 204: null },
  }),
} satisfies Record<string, RouteDefinition>;
