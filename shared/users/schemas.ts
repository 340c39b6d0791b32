import { z } from 'zod';
import { Role } from '../auth/tokens.js';

/** E-mail as an identifier: trimmed, lower-cased, at most 254 chars (RFC 5321 §4.5.3.1.3). */
export const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((email) => email.toLowerCase())
  .meta({ example: 'ada@example.com' });

/** 8–128 characters (OWASP Authentication Cheat Sheet: allow long passphrases, cap the length). */
export const Password = z.string().min(8).max(128).meta({ format: 'password' });

export const RegisterBody = z
  .strictObject({
    email: Email,
    password: Password,
    name: z.string().trim().min(1).max(100).optional(),
  })
  .meta({ id: 'RegisterRequest' });

export const LoginBody = z
  .strictObject({ email: Email, password: z.string().min(1).max(128) })
  .meta({ id: 'LoginRequest' });

/**
 * OAuth 2.0 password grant form (RFC 6749 §4.3.2), so the docs page's Authorize button
 * works; `username` is the e-mail. Client fields are accepted and ignored.
 */
export const LoginForm = z
  .strictObject({
    username: Email,
    password: z.string().min(1).max(128),
    grant_type: z.literal('password').optional(),
    scope: z.string().max(1000).optional(),
    client_id: z.string().max(200).optional(),
    client_secret: z.string().max(200).optional(),
  })
  .meta({ id: 'LoginForm' });

export const User = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: Role,
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'User' });
export type User = z.output<typeof User>;

export const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.int().meta({ description: 'Seconds until the access token expires.' }),
    refresh_token: z.string().meta({
      description: 'Opaque, single use: exchange it at /api/v1/auth/refresh for a new pair.',
    }),
  })
  .meta({ id: 'TokenResponse' });
export type TokenResponse = z.output<typeof TokenResponse>;

/** An opaque refresh token as issued (43 base64url chars); a generous bound for the input. */
const RefreshTokenValue = z.string().min(1).max(200);

export const RefreshBody = z
  .strictObject({ refresh_token: RefreshTokenValue })
  .meta({ id: 'RefreshRequest' });

export const LogoutBody = z
  .strictObject({ refresh_token: RefreshTokenValue.optional() })
  .optional()
  .meta({ id: 'LogoutRequest' });
