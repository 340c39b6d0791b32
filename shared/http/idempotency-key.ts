/**
 * The names and rules of idempotency keys (draft-ietf-httpapi-idempotency-key-header; API.md
 * § Idempotency keys), shared by the middleware (`middleware/idempotency.ts`) and the OpenAPI
 * document, which must not bundle the middleware's database code.
 */

/** The request header, in lower case as the header normaliser leaves it. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** The response header that marks a replayed response (value `true`). */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';
/** Longest key, in characters. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** A valid key: 1–255 printable ASCII characters, U+0020–U+007E. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;
