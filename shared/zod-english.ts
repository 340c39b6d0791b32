/**
 * zod's English messages for zod/mini schemas. Classic zod sets them itself when it builds its
 * first schema; zod/mini sets no locale, and its issues then all read `Invalid input`. The
 * modules whose zod messages reach a client or a log (the configuration, which every function
 * loads, the HTTP validation step and handler, the key sets, the deploy-time trigger) call
 * `useEnglishMessages()` when they load, so their messages are the ones classic zod gave.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * Makes English zod's locale unless one is set already (as classic zod does): `Too small:
 * expected string to have >=1 characters`, `Invalid UUID`, and so on.
 */
export function useEnglishMessages(): void {
  if (!config().localeError) config(en());
}
