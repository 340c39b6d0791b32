/**
 * Verification of SigV4 presigned S3 URLs (query-string authentication; AWS docs, "Amazon S3:
 * Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"), for the local
 * S3 in front of fauxqs, which checks no signature at all. Pure: no I/O, the clock is a
 * parameter. The signature is recomputed with @smithy/signature-v4 — the signer the SDK's
 * presigner uses — from what THIS request carries: its method, its path, its query without
 * `X-Amz-Signature`, and exactly the headers its `X-Amz-SignedHeaders` names with the values
 * it sent. So a URL presigned for `Content-Type: text/csv` and `Content-Length: 1234` is
 * refused for another type or size, as S3 refuses it.
 *
 * Not emulated: checksums in the query (`x-amz-checksum-*`) are not compared with the body
 * (fauxqs stores them unchecked), SigV4A, and S3's limits on a future `X-Amz-Date`.
 */
import { timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** S3's longest validity of a presigned URL, in seconds (7 days). */
export const MAX_EXPIRES_SECONDS = 604_800;

export interface PresignedRequestInput {
  method: string;
  /** The request target as received: `/bucket/key?X-Amz-Algorithm=…` (or an absolute URL). */
  url: string;
  /** The request's headers, names in any case (Node's `req.headers`). */
  headers: Record<string, string | string[] | number | undefined>;
  now: Date | number;
  /** The local cloud's one key pair. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** Default `s3`. */
  service?: string;
}

export type Verification =
  | { ok: true; expiresAt: Date }
  | {
      ok: false;
      /** 400 for a malformed query, 403 for a refusal (as S3 answers). */
      status: 400 | 403;
      /** S3's error code: `AccessDenied`, `SignatureDoesNotMatch`, `InvalidAccessKeyId`, `AuthorizationQueryParametersError`. */
      code: string;
      message: string;
    };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const REQUIRED = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const;

/** Stands for a body that is not hashed (any non-buffer body makes the signer use UNSIGNED-PAYLOAD). */
const STREAMED_BODY = Object.freeze({ streamed: true });

/** True when the request target carries query-string authentication (`X-Amz-Algorithm=`, `X-Amz-Signature=`, …). */
export function isPresignedUrl(url: string): boolean {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  return query.split('&').some((pair) => /^x-amz-(algorithm|signature|credential)=/i.test(pair));
}

/** A 4xx of S3's kinds. */
const refuse = (status: 400 | 403, code: string, message: string): Verification => ({
  ok: false,
  status,
  code,
  message,
});
const malformed = (message: string) => refuse(400, 'AuthorizationQueryParametersError', message);

/** Percent-decodes like a form (`+` is a space); null when malformed. */
function decode(text: string): string | null {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** RFC 3986 encoding of everything but the unreserved characters (SigV4's `UriEncode`). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `20250102T030405Z` as a Date, or null when it is not such a valid instant. */
function parseAmzDate(text: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return null;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  if (Number.isNaN(date.getTime())) return null;
  // Round trip: 20250230 is not a day.
  const back = date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return back === text ? date : null;
}

/** The value of header `name` (lower case) as the signer reads it: repeated values joined by `,`. */
function headerValue(headers: PresignedRequestInput['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    return Array.isArray(value) ? value.join(',') : String(value);
  }
  return undefined;
}

/**
 * Verifies a presigned request (see the module comment), in S3's order of checks: the
 * parameters are present and well formed (else 400 `AuthorizationQueryParametersError`),
 * the access key is the local one (403 `InvalidAccessKeyId`), the URL has not expired
 * (`X-Amz-Date` + `X-Amz-Expires`, at most 604,800 s; else 403 `AccessDenied` "Request has
 * expired"), no `x-amz-*` header goes unsigned (403 `AccessDenied`), and the signature
 * recomputed from this request matches (403 `SignatureDoesNotMatch`). A request without
 * query authentication is 403 `AccessDenied`. The path is canonicalized as S3 does: each
 * segment decoded, then URI-encoded once (so `%2B` and `+` are the same key).
 */
export async function verifyPresignedRequest(input: PresignedRequestInput): Promise<Verification> {
  const service = input.service ?? 's3';
  const target = input.url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/#.*$/, '');
  const mark = target.indexOf('?');
  const rawPath = mark === -1 ? target : target.slice(0, mark);
  const rawQuery = mark === -1 ? '' : target.slice(mark + 1);
  if (!rawPath.startsWith('/')) return malformed('The request path must start with /');

  const query: Record<string, string | string[]> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = decode(eq === -1 ? '' : pair.slice(eq + 1));
    if (name === null || value === null) return malformed('The query string is not well encoded');
    const previous = query[name];
    query[name] =
      previous === undefined
        ? value
        : Array.isArray(previous)
          ? [...previous, value]
          : [previous, value];
  }
  const present = REQUIRED.filter((name) => query[name] !== undefined);
  if (present.length === 0) return refuse(403, 'AccessDenied', 'Request is not presigned');
  if (present.length < REQUIRED.length) {
    return malformed(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const single: Partial<Record<(typeof REQUIRED)[number], string>> = {};
  for (const name of REQUIRED) {
    const value = query[name];
    if (typeof value !== 'string') return malformed(`${name} is given more than once`);
    single[name] = value;
  }
  const { 'X-Amz-Algorithm': algorithm = '', 'X-Amz-Credential': credential = '' } = single;
  const { 'X-Amz-Date': amzDate = '', 'X-Amz-Expires': expires = '' } = single;
  const { 'X-Amz-SignedHeaders': signedList = '', 'X-Amz-Signature': signature = '' } = single;

  if (algorithm !== ALGORITHM) return malformed(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) {
    return malformed(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return malformed('Error parsing the X-Amz-Credential parameter');
  }
  const [accessKeyId, day, scopeRegion, scopeService] = scope as [string, string, string, string];
  if (day !== amzDate.slice(0, 8)) {
    return malformed(
      `Error parsing the X-Amz-Credential parameter; incorrect date format ${day}. This date in the credential must be in the format "yyyyMMdd".`,
    );
  }
  if (scopeRegion !== input.region) {
    return malformed(
      `Error parsing the X-Amz-Credential parameter; the region '${scopeRegion}' is wrong; expecting '${input.region}'`,
    );
  }
  if (scopeService !== service) {
    return malformed(
      `Error parsing the X-Amz-Credential parameter; incorrect service '${scopeService}'. This endpoint belongs to '${service}'.`,
    );
  }
  if (!/^\d{1,7}$/.test(expires) || String(Number(expires)) !== expires) {
    return malformed('X-Amz-Expires should be a number');
  }
  const seconds = Number(expires);
  if (seconds < 1) return malformed('X-Amz-Expires must be non-negative');
  if (seconds > MAX_EXPIRES_SECONDS) {
    return malformed(
      `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_EXPIRES_SECONDS}`,
    );
  }
  const signed = signedList.split(';');
  const wellFormed =
    signed.every((name) => /^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) &&
    signed.every((name, i) => i === 0 || (signed[i - 1] as string) < name) &&
    signed.includes('host');
  if (!wellFormed) {
    return malformed(
      'X-Amz-SignedHeaders must be lower-case header names, sorted, separated by ";", and include host',
    );
  }
  if (accessKeyId !== input.credentials.accessKeyId) {
    return refuse(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    );
  }
  const expiresAt = new Date(signedAt.getTime() + seconds * 1000);
  if (new Date(input.now).getTime() > expiresAt.getTime()) {
    return refuse(403, 'AccessDenied', 'Request has expired');
  }
  const unsigned = Object.keys(input.headers)
    .map((name) => name.toLowerCase())
    .filter((name) => name.startsWith('x-amz-') && !signed.includes(name));
  if (unsigned.length) {
    return refuse(
      403,
      'AccessDenied',
      `There were headers present in the request which were not signed: ${unsigned.join(', ')}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = headerValue(input.headers, name);
    if (value === undefined) {
      return refuse(
        403,
        'SignatureDoesNotMatch',
        `The request signature we calculated does not match the signature you provided: the signed header ${name} is missing`,
      );
    }
    headers[name] = value;
  }
  const segments = rawPath.split('/').map(decode);
  if (segments.some((segment) => segment === null))
    return malformed('The path is not well encoded');
  const path = (segments as string[]).map(uriEncode).join('/');
  const { 'X-Amz-Signature': _signature, ...unsignedQuery } = query;

  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region,
    service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false, // `path` is canonical already
  });
  const names = new Set(signed);
  const recomputed = await signer.presign(
    new HttpRequest({
      method: input.method.toUpperCase(),
      protocol: 'http:',
      hostname: headers.host ?? '',
      path,
      query: unsignedQuery,
      headers,
      // A streamed body: the signer then uses UNSIGNED-PAYLOAD, the payload hash of every
      // presigned S3 URL (unless a signed x-amz-content-sha256 header says otherwise).
      body: STREAMED_BODY,
    }),
    {
      signingDate: signedAt,
      expiresIn: seconds,
      signingRegion: input.region,
      signingService: service,
      // Sign exactly these, even the ones the signer skips by default (content-type is
      // "unsignable" to the S3 presigner, user-agent always), and hoist none into the query.
      signableHeaders: names,
      unhoistableHeaders: names,
    },
  );
  const expected = recomputed.query?.['X-Amz-Signature'];
  const matches =
    recomputed.query?.['X-Amz-SignedHeaders'] === signedList &&
    typeof expected === 'string' &&
    expected.length === signature.length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  if (!matches) {
    return refuse(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  return { ok: true, expiresAt };
}

/** An S3 error document (`<Error><Code>…`), as S3 answers a refused request. */
export function s3ErrorXml(code: string, message: string, resource?: string): string {
  const xml = (text: string) =>
    text.replace(
      /[<>&"']/g,
      (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
    );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xml(code)}</Code><Message>${xml(message)}</Message>${
    resource ? `<Resource>${xml(resource)}</Resource>` : ''
  }</Error>`;
}
