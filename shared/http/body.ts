import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

/** Largest accepted request body, in bytes (API.md: 413 over 1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

export const JSON_MEDIA_TYPE = 'application/json';
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/** The media type of a `Content-Type` value, lower-cased, without parameters (RFC 9110 §8.3.1). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === JSON_MEDIA_TYPE || /^application\/[\w.+-]+\+json$/.test(mediaType);
}

/**
 * Decodes an API Gateway request body. Returns `{value, form}`: `value` is `undefined` for an
 * absent or empty body, the parsed JSON for `application/json` (and `+json`), or an object of
 * strings for `application/x-www-form-urlencoded` when `accepts.form` (then `form` is true). Our own code rather than `@middy/http-json-body-parser`, which answers
 * malformed JSON with 415 where API.md requires 400.
 *
 * Errors: `PayloadTooLarge` (413) over `MAX_BODY_BYTES`; `UnsupportedMediaType` (415) for
 * any other content type; `BadRequest` (400) for malformed JSON.
 */
export function decodeBody(
  raw: string | undefined,
  isBase64Encoded: boolean,
  contentType: string | undefined,
  accepts: { json: boolean; form: boolean },
): { value: unknown; form: boolean } {
  if (raw === undefined || raw === null || raw === '') return { value: undefined, form: false };
  const bytes = isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) throw new PayloadTooLarge(MAX_BODY_BYTES);
  const mediaType = mediaTypeOf(contentType);
  const text = bytes.toString('utf8');
  if (accepts.json && isJsonMediaType(mediaType)) {
    try {
      return { value: JSON.parse(text), form: false };
    } catch {
      throw new BadRequest('The body is not valid JSON.');
    }
  }
  if (accepts.form && mediaType === FORM_MEDIA_TYPE) {
    return { value: Object.fromEntries(new URLSearchParams(text)), form: true };
  }
  const accepted = [
    ...(accepts.json ? [JSON_MEDIA_TYPE] : []),
    ...(accepts.form ? [FORM_MEDIA_TYPE] : []),
  ];
  throw new UnsupportedMediaType(accepted);
}
