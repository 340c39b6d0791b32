import * as z from 'zod/mini';

/**
 * E-mail as an identifier: trimmed, lower-cased, at most 254 chars (RFC 5321 §4.5.3.1.3).
 * Documented as `format: email` (the check runs after trimming, so it is not on the input).
 */
export const Email = z
  .pipe(
    z.pipe(z.string().check(z.trim(), z.maxLength(254)), z.email()),
    z.transform((email: string) => email.toLowerCase()),
  )
  .register(z.globalRegistry, { format: 'email', example: 'ada@example.com' });
