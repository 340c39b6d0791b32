import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type PresignedRequestInput,
  verifyPresignedRequest,
} from '../../infra/local/presigned-url.js';
import { fuzzRuns } from './middleware/harness.js';

// The URLs come from the functions' own presignPut/presignGet (shared/files/s3.ts), so what is
// checked is what the functions hand out; the environment is set before that module loads.
const ENDPOINT = 'http://127.0.0.1:4599';
Object.assign(process.env, {
  FILES_BUCKET: 'files',
  S3_ENDPOINT: ENDPOINT,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
});
const { presignGet, presignPut } = await import('../../shared/files/s3.js');

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';

/** The request a client makes with `url` and `headers`, as the proxy sees it. */
function requestOf(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  now: number = Date.now(),
): PresignedRequestInput {
  const parsed = new URL(url);
  return {
    method,
    url: parsed.pathname + parsed.search,
    headers: { host: parsed.host, ...headers },
    now,
    credentials,
    region,
  };
}

const csvPut = () =>
  presignPut({
    key: 'uploads/2026/import one+two.csv',
    contentType: 'text/csv',
    contentLength: 1234,
    expiresInSeconds: 900,
  });

/** The query's parameters, decoded as the verifier decodes them, in a comparable form. */
function decodedQuery(query: string): string | null {
  try {
    const pairs = query
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const eq = pair.indexOf('=');
        const part = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '));
        return eq === -1 ? [part(pair), ''] : [part(pair.slice(0, eq)), part(pair.slice(eq + 1))];
      });
    return JSON.stringify(pairs.sort());
  } catch {
    return null;
  }
}

describe('presignPut', () => {
  it('signs content-type and content-length as headers, not query parameters, and no checksum', async () => {
    const { url, headers } = await csvPut();
    const query = new URL(url).searchParams;
    expect(query.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(query.get('X-Amz-Expires')).toBe('900');
    expect(query.get('X-Amz-Content-Sha256')).toBe('UNSIGNED-PAYLOAD');
    // Not hoisted into the query, and no CRC32 of an empty body that S3 would hold the upload to.
    const names = [...query.keys()].map((name) => name.toLowerCase());
    expect(names).not.toContain('content-type');
    expect(names.filter((name) => name.startsWith('x-amz-checksum'))).toEqual([]);
    expect(headers).toEqual({ 'content-type': 'text/csv', 'content-length': '1234' });
  });

  it('rejects an expiry over 7 days and a negative or fractional length', async () => {
    const base = { key: 'uploads/a.csv', contentType: 'text/csv', contentLength: 1 };
    await expect(presignPut({ ...base, expiresInSeconds: 604_801 })).rejects.toThrow(RangeError);
    await expect(presignPut({ ...base, expiresInSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(presignPut({ ...base, contentLength: -1, expiresInSeconds: 60 })).rejects.toThrow(
      RangeError,
    );
    await expect(presignPut({ ...base, contentLength: 1.5, expiresInSeconds: 60 })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('verifyPresignedRequest', () => {
  it('accepts a presigned PUT sent with exactly the signed headers', async () => {
    const { url, headers } = await csvPut();
    const verdict = await verifyPresignedRequest(requestOf('PUT', url, headers));
    expect(verdict).toMatchObject({ ok: true });
  });

  it('accepts a presigned GET with its download name, until it expires', async () => {
    const signedAt = Date.now();
    const url = await presignGet({
      key: 'exports/notes.csv',
      expiresInSeconds: 900,
      downloadName: 'notes 2026 – März.csv',
      contentType: 'text/csv',
    });
    const query = new URL(url).searchParams;
    expect(query.get('response-content-disposition')).toBe(
      `attachment; filename="notes 2026 _ M_rz.csv"; filename*=UTF-8''notes%202026%20%E2%80%93%20M%C3%A4rz.csv`,
    );
    expect(query.get('response-content-type')).toBe('text/csv');
    const verdict = await verifyPresignedRequest(requestOf('GET', url));
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    const left = verdict.expiresAt.getTime() - signedAt;
    expect(left).toBeGreaterThan(898_000);
    expect(left).toBeLessThanOrEqual(900_000);
    // Still valid at its last second, expired just after (the clock is a parameter).
    const atEnd = verdict.expiresAt.getTime();
    expect((await verifyPresignedRequest(requestOf('GET', url, {}, atEnd))).ok).toBe(true);
    expect(await verifyPresignedRequest(requestOf('GET', url, {}, atEnd + 1000))).toMatchObject({
      ok: false,
      status: 403,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });

  it('refuses a URL signed in the past whose validity is over', async () => {
    const client = new S3Client({ region, endpoint: ENDPOINT, forcePathStyle: true, credentials });
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'files', Key: 'exports/old.csv' }),
      { expiresIn: 900, signingDate: new Date(Date.now() - 901_000) },
    );
    expect(await verifyPresignedRequest(requestOf('GET', url))).toMatchObject({
      ok: false,
      status: 403,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });

  it('refuses another Content-Type, another Content-Length, a missing header, another method', async () => {
    const { url, headers } = await csvPut();
    const refusal = { ok: false, status: 403, code: 'SignatureDoesNotMatch' };
    const cases = [
      requestOf('PUT', url, { ...headers, 'content-type': 'text/plain' }),
      requestOf('PUT', url, { ...headers, 'content-length': '1235' }),
      requestOf('PUT', url, { 'content-type': 'text/csv' }),
      requestOf('GET', url, headers),
      requestOf('PUT', url.replace('/files/uploads/', '/files/exports/'), headers),
    ];
    for (const request of cases) {
      expect(await verifyPresignedRequest(request)).toMatchObject(refusal);
    }
  });

  it('refuses other credentials: an unknown access key, another secret', async () => {
    const { url, headers } = await csvPut();
    expect(
      await verifyPresignedRequest({
        ...requestOf('PUT', url, headers),
        credentials: { accessKeyId: 'other', secretAccessKey: 'local' },
      }),
    ).toMatchObject({ ok: false, status: 403, code: 'InvalidAccessKeyId' });
    expect(
      await verifyPresignedRequest({
        ...requestOf('PUT', url, headers),
        credentials: { accessKeyId: 'local', secretAccessKey: 'other' },
      }),
    ).toMatchObject({ ok: false, status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses an unsigned request, and one missing a parameter or with an unsigned x-amz header', async () => {
    expect(
      await verifyPresignedRequest(requestOf('GET', `${ENDPOINT}/files/exports/notes.csv`)),
    ).toMatchObject({ ok: false, status: 403, code: 'AccessDenied' });
    const url = await presignGet({ key: 'exports/notes.csv', expiresInSeconds: 60 });
    const withoutExpires = url.replace(/&X-Amz-Expires=\d+/, '');
    expect(await verifyPresignedRequest(requestOf('GET', withoutExpires))).toMatchObject({
      ok: false,
      status: 400,
      code: 'AuthorizationQueryParametersError',
    });
    expect(
      await verifyPresignedRequest(requestOf('GET', url, { 'x-amz-meta-owner': 'someone' })),
    ).toMatchObject({ ok: false, status: 403, code: 'AccessDenied' });
  });

  it('refuses the URL with any one character of its query changed (property)', async () => {
    const { url, headers } = await csvPut();
    const parsed = new URL(url);
    const query = parsed.search.slice(1);
    const alphabet = fc.constantFrom(...'ABCXYZabcxyz0189%&=+-._~;/'.split(''));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: query.length - 1 }), alphabet, async (at, replacement) => {
        fc.pre(query[at] !== replacement);
        const mutated = query.slice(0, at) + replacement + query.slice(at + 1);
        // A change that decodes to the same parameters (`%2F` → `%2f`) is the same request.
        fc.pre(decodedQuery(mutated) !== decodedQuery(query));
        const verdict = await verifyPresignedRequest(
          requestOf('PUT', `${parsed.origin}${parsed.pathname}?${mutated}`, headers),
        );
        expect(verdict.ok).toBe(false);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('refuses the request with any one character of a signed header or the path changed (property)', async () => {
    const { url, headers } = await csvPut();
    const parsed = new URL(url);
    const signed = { host: parsed.host, ...headers } as Record<string, string>;
    const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('host', 'content-type', 'content-length'),
        fc.nat(),
        printable,
        async (name, index, replacement) => {
          const value = signed[name] as string;
          const at = index % value.length;
          fc.pre(value[at] !== replacement);
          const request = requestOf('PUT', url, headers);
          request.headers = {
            ...signed,
            [name]: value.slice(0, at) + replacement + value.slice(at + 1),
          };
          expect((await verifyPresignedRequest(request)).ok).toBe(false);
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
    const path = parsed.pathname;
    const decodedPath = (text: string) => {
      try {
        return text.split('/').map(decodeURIComponent).join('\u0000');
      } catch {
        return null;
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: path.length - 1 }), printable, async (at, replacement) => {
        fc.pre(replacement !== '?' && replacement !== '#' && path[at] !== replacement);
        const mutated = path.slice(0, at) + replacement + path.slice(at + 1);
        fc.pre(decodedPath(mutated) !== decodedPath(path));
        const request = requestOf('PUT', url, headers);
        request.url = `${mutated}${parsed.search}`;
        expect((await verifyPresignedRequest(request)).ok).toBe(false);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('verifies a URL signed with a session token, which the signature covers', async () => {
    const client = new S3Client({
      region,
      endpoint: ENDPOINT,
      forcePathStyle: true,
      credentials: { ...credentials, sessionToken: 'token-1' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const url = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: 'files', Key: 'uploads/x.bin', ContentType: 'a/b' }),
      { expiresIn: 60, signableHeaders: new Set(['content-type']) },
    );
    expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe('token-1');
    expect(
      await verifyPresignedRequest(requestOf('PUT', url, { 'content-type': 'a/b' })),
    ).toMatchObject({ ok: true });
    expect(
      await verifyPresignedRequest(
        requestOf('PUT', url.replace('token-1', 'token-2'), { 'content-type': 'a/b' }),
      ),
    ).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });
});
