import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from '../../errors.js';
import type { Middleware, StackRequest } from './types.js';

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

/** The body's bytes and what they are, once size, media type, charset and UTF-8 are checked. */
export interface CheckedBody {
  text: string;
  form: boolean;
}

/**
 * Checks an API Gateway request body before it is parsed: undefined for an absent or empty
 * body; else its UTF-8 text and whether it is a form. JSON (`application/json`, `+json`)
 * when `accepts.json`, `application/x-www-form-urlencoded` when `accepts.form`. Both are read
 * as UTF-8 (RFC 8259 §8.1 for JSON; the WHATWG URL standard for forms), so a `charset`
 * parameter other than `utf-8` is refused; a leading BOM is dropped (RFC 8259 §8.1 allows it).
 *
 * Errors: `PayloadTooLarge` (413) over `MAX_BODY_BYTES`; `UnsupportedMediaType` (415) for
 * any other content type or charset; `BadRequest` (400) for bytes that are not UTF-8.
 */
export function checkBody(
  raw: string | undefined | null,
  isBase64Encoded: boolean,
  contentType: string | undefined,
  accepts: { json: boolean; form: boolean },
): CheckedBody | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
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
  try {
    return { text: UTF8.decode(bytes), form };
  } catch {
    throw new BadRequest('The body is not valid UTF-8.');
  }
}

/**
 * Decodes the request body into `requestState.body` (and `form`): `checkBody` first (size,
 * media type, charset, UTF-8: rules the middy parsers do not have), then the official
 * parsers do the parsing, `@middy/http-json-body-parser` for JSON (with its prototype-key
 * protection) and `@middy/http-urlencode-body-parser` for forms (duplicate fields become
 * arrays, which validation then refuses). Their errors are mapped to this API's statuses by
 * `problemDetails` (`fromMiddyError`: malformed JSON is 400). An absent body leaves
 * `requestState.body` undefined, for validation to report the missing fields.
 */
export function body(accepts: { json: boolean; form: boolean }): Middleware {
  // The content type is already checked; the parsers only parse.
  const parseJson = httpJsonBodyParser({ disableContentTypeCheck: true }).before as (
    request: StackRequest,
  ) => void;
  const parseForm = httpUrlencodeBodyParser({ disableContentTypeCheck: true }).before as (
    request: StackRequest,
  ) => void;
  return {
    before: (request) => {
      const { event } = request;
      const state = request.context.requestState;
      const checked = checkBody(
        event.body,
        Boolean(event.isBase64Encoded),
        event.headers?.['content-type'],
        accepts,
      );
      if (!checked) return;
      const original = { body: event.body, isBase64Encoded: event.isBase64Encoded };
      event.body = checked.text;
      event.isBase64Encoded = false;
      try {
        (checked.form ? parseForm : parseJson)(request);
        state.body = event.body as unknown;
        state.form = checked.form;
      } finally {
        // The handler and the logs see the event as API Gateway sent it.
        event.body = original.body;
        event.isBase64Encoded = original.isBase64Encoded;
      }
    },
  };
}
