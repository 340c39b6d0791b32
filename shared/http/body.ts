import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

/** Largest accepted request body, in bytes (API.md: 413 over 1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

export const JSON_MEDIA_TYPE = 'application/json';
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/** The media type of a `Content-Type` value, lower-cased, without parameters (RFC 9110 §8.3.1). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

/**
 * The `charset` parameter of a `Content-Type` value, lower-cased and unquoted, or undefined
 * when there is none (RFC 9110 §8.3.1, §5.6.6: parameter names are case-insensitive, values
 * are tokens or quoted strings; charset values are case-insensitive).
 */
export function charsetOf(contentType: string | undefined): string | undefined {
  for (const parameter of (contentType ?? '').split(';').slice(1)) {
    const at = parameter.indexOf('=');
    if (at < 0 || parameter.slice(0, at).trim().toLowerCase() !== 'charset') continue;
    return parameter
      .slice(at + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return undefined;
}

// Strict: invalid bytes throw instead of becoming U+FFFD. A leading BOM is dropped, which
// RFC 8259 §8.1 allows.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === JSON_MEDIA_TYPE || /^application\/[\w.+-]+\+json$/.test(mediaType);
}

/**
 * Decodes an API Gateway request body. Returns `{value, form}`: `value` is `undefined` for an
 * absent or empty body, the parsed JSON for `application/json` (and `+json`), or an object of
 * strings for `application/x-www-form-urlencoded` when `accepts.form` (then `form` is true).
 * Our own code rather than `@middy/http-json-body-parser`, which answers malformed JSON with
 * 415 where API.md requires 400. Both media types are read as UTF-8 (RFC 8259 §8.1 for JSON;
 * the WHATWG URL standard for forms), so a `charset` parameter other than `utf-8` is refused.
 *
 * Errors: `PayloadTooLarge` (413) over `MAX_BODY_BYTES`; `UnsupportedMediaType` (415) for
 * any other content type or charset; `BadRequest` (400) for bytes that are not UTF-8 or
 * malformed JSON.
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
  const json = accepts.json && isJsonMediaType(mediaType);
  const form = accepts.form && mediaType === FORM_MEDIA_TYPE;
  const charset = charsetOf(contentType);
  if ((!json && !form) || (charset !== undefined && charset !== 'utf-8')) {
    const accepted = [
      ...(accepts.json ? [JSON_MEDIA_TYPE] : []),
      ...(accepts.form ? [FORM_MEDIA_TYPE] : []),
    ];
    throw new UnsupportedMediaType(accepted.map((type) => `${type} (UTF-8)`));
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new BadRequest('The body is not valid UTF-8.');
  }
  if (form) return { value: Object.fromEntries(new URLSearchParams(text)), form: true };
  try {
    return { value: JSON.parse(text), form: false };
  } catch {
    throw new BadRequest('The body is not valid JSON.');
  }
}
