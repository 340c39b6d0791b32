import * as z from 'zod/mini';
import { Role } from '../auth/tokens.js';
import { UtcTimestamp } from '../schemas.js';

import { Email } from './email.js';

export { Email };

/** 8–128 characters (OWASP Authentication Cheat Sheet: allow long passphrases, cap the length). */
export const Password = z
  .string()
  .check(z.minLength(8), z.maxLength(128))
  .register(z.globalRegistry, { format: 'password' });

export const RegisterBody = z
  .strictObject({
    email: Email,
    password: Password,
    name: z
      .optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100)))
      .register(z.globalRegistry, { example: 'Ada Lovelace' }),
  })
  .register(z.globalRegistry, {
    id: 'RegisterRequest',
    example: { email: 'ada@example.com', password: 'correct horse battery', name: 'Ada Lovelace' },
  });

export const LoginBody = z
  .strictObject({
    email: Email,
    password: z
      .string()
      .check(z.minLength(1), z.maxLength(128))
      .register(z.globalRegistry, { format: 'password' }),
  })
  .register(z.globalRegistry, {
    id: 'LoginRequest',
    example: { email: 'ada@example.com', password: 'correct horse battery' },
  });

/**
 * OAuth 2.0 password grant form (RFC 6749 §4.3.2), so the docs page's Authorize button
 * works; `username` is the e-mail. Client fields are accepted and ignored.
 */
export const LoginForm = z
  .strictObject({
    username: Email,
    password: z
      .string()
      .check(z.minLength(1), z.maxLength(128))
      .register(z.globalRegistry, { format: 'password' }),
    grant_type: z.optional(z.literal('password')),
    scope: z.optional(z.string().check(z.maxLength(1000))),
    client_id: z.optional(z.string().check(z.maxLength(200))),
    client_secret: z.optional(z.string().check(z.maxLength(200))),
  })
  .register(z.globalRegistry, {
    id: 'LoginForm',
    example: {
      username: 'ada@example.com',
      password: 'correct horse battery',
      grant_type: 'password',
    },
  });

export const User = z
  .object({
    id: z.uuid(),
    email: z.email(),
    name: z.nullable(z.string()),
    role: Role,
    created_at: UtcTimestamp,
  })
  .register(z.globalRegistry, {
    id: 'User',
    example: {
      id: '0b7e3c52-5d1f-4a8e-b6c2-9f4d2a1e7c30',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      role: 'user',
      created_at: '2024-01-01T10:00:00.000Z',
    },
  });
export type User = z.output<typeof User>;

export const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z
      .int()
      .check(z.gte(1), z.lte(3600))
      .register(z.globalRegistry, { description: 'Seconds until the access token expires.' }),
    refresh_token: z.string().register(z.globalRegistry, {
      description: 'Opaque, single use: exchange it at /api/v1/auth/refresh for a new pair.',
    }),
  })
  .register(z.globalRegistry, {
    id: 'TokenResponse',
    example: {
      access_token:
        'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiIwYjdlM2M1MiJ9.c2lnbmF0dXJl',
      token_type: 'bearer',
      expires_in: 900,
      refresh_token: 'q3Jc0r5n2a8Xv4Kp9Lw1Tz6Ys7Hb3Md0Nf5Ge2Ua8Vi',
    },
  });
export type TokenResponse = z.output<typeof TokenResponse>;

/** An opaque refresh token as issued (43 base64url chars); a generous bound for the input. */
const RefreshTokenValue = z.string().check(z.minLength(1), z.maxLength(200));

export const RefreshBody = z
  .strictObject({ refresh_token: RefreshTokenValue })
  .register(z.globalRegistry, {
    id: 'RefreshRequest',
    example: { refresh_token: 'q3Jc0r5n2a8Xv4Kp9Lw1Tz6Ys7Hb3Md0Nf5Ge2Ua8Vi' },
  });

/**
 * The OAuth 2.0 refresh grant form (RFC 6749 §6), so the document's OAuth2 `refreshUrl` works
 * for OAuth clients; client fields are accepted and ignored.
 */
export const RefreshForm = z
  .strictObject({
    grant_type: z.literal('refresh_token'),
    refresh_token: RefreshTokenValue,
    scope: z.optional(z.string().check(z.maxLength(1000))),
    client_id: z.optional(z.string().check(z.maxLength(200))),
    client_secret: z.optional(z.string().check(z.maxLength(200))),
  })
  .register(z.globalRegistry, {
    id: 'RefreshForm',
    example: {
      grant_type: 'refresh_token',
      refresh_token: 'q3Jc0r5n2a8Xv4Kp9Lw1Tz6Ys7Hb3Md0Nf5Ge2Ua8Vi',
    },
  });

export const LogoutBody = z
  .optional(z.strictObject({ refresh_token: z.optional(RefreshTokenValue) }))
  .register(z.globalRegistry, {
    id: 'LogoutRequest',
    example: { refresh_token: 'q3Jc0r5n2a8Xv4Kp9Lw1Tz6Ys7Hb3Md0Nf5Ge2Ua8Vi' },
  });
