import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, describeEnvironmentProblems, getConfig } from '../config.js';
import { traced } from '../observability.js';
import { type AwsCredentials, presignQuery, uriEncode } from '../sigv4.js';

type S3Module = typeof import('@aws-sdk/client-s3');

/**
 * S3's minimum size of a multipart upload's part, in bytes, for every part but the last
 * (5 MiB; AWS docs, "Amazon S3 multipart upload limits"). CompleteMultipartUpload fails with
 * `EntityTooSmall` otherwise.
 */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** The largest part, and the largest single PUT, in bytes (5 GiB; same AWS page). */
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
/** Part numbers run from 1 to 10,000 (same AWS page). */
export const MAX_PART_NUMBER = 10_000;
/** The longest a SigV4 presigned URL may be valid, in seconds (7 days; AWS docs, "Sharing objects with presigned URLs"). */
export const MAX_PRESIGN_SECONDS = 604_800;

/** The object does not exist (S3 `NoSuchKey` / `NotFound`). */
export class ObjectNotFound extends Error {
  override name = 'ObjectNotFound';
  constructor(readonly key: string) {
    super(`No object has the key ${key}`);
  }
}

interface Loaded {
  sdk: S3Module;
  /** Sends the requests. */
  client: S3Client;
}

let loaded: Promise<Loaded> | undefined;

/**
 * The S3 SDK and the instance's clients, loaded on first use by a dynamic `import()` (in
 * Lambda `@aws-sdk/client-*` is external, the runtime's), never at init. Up to 3 attempts
 * (the SDK's standard retries: connection errors, 5xx, throttling). Timeouts: 1 s to connect;
 * 30 s from sending a request (its body included, e.g. a part) to the response's headers
 * (`requestTimeout` with `throwOnRequestTimeout`: in @smithy/node-http-handler that timer is
 * cleared once the response arrives, so it does not cut a long download); and 30 s of
 * silence on the socket (`socketTimeout`, an idle timeout), which does guard a body being
 * streamed — a 100 MiB object that keeps flowing is never cut. `S3_ENDPOINT` (the local
 * cloud's S3) is used path-style (`forcePathStyle`), with the bucket in the path.
 */
function loadS3(): Promise<Loaded> {
  loaded ??= import('@aws-sdk/client-s3').then(
    (sdk) => {
      const config = getConfig();
      const common = {
        region: config.AWS_REGION,
        ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT, forcePathStyle: true } : {}),
      };
      const client = new sdk.S3Client({
        ...common,
        maxAttempts: 3,
        requestHandler: {
          connectionTimeout: 1000,
          requestTimeout: 30_000,
          throwOnRequestTimeout: true,
          socketTimeout: 30_000,
        },
      });
      return { sdk, client };
    },
    (error: unknown) => {
      loaded = undefined;
      throw error;
    },
  );
  return loaded;
}

/** `FILES_BUCKET`; throws `ConfigError` when the function has none. */
function bucket(): string {
  const name = getConfig().FILES_BUCKET;
  if (!name) {
    throw new ConfigError(
      describeEnvironmentProblems([
        { name: 'FILES_BUCKET', message: 'is required by a function that reads or writes files' },
      ]),
    );
  }
  return name;
}

/**
 * A SigV4 presigned URL (AWS docs, "Authenticating Requests: Using Query Parameters") of
 * `method` on `key` in the files bucket, made with @smithy/signature-v4 (`shared/sigv4.ts`)
 * and the function's own credentials from the environment, as S3 expects it: the payload
 * `UNSIGNED-PAYLOAD`, the path not escaped twice, `headers` signed. Virtual-hosted style
 * (`<bucket>.s3.<region>.amazonaws.com`), or path-style on `S3_ENDPOINT`. (Not
 * @aws-sdk/s3-request-presigner: measured, it and its multi-region signer add ~35 KiB to a
 * bundle, a quarter of a worker's 150 KiB budget, for the same signature.)
 */
async function presignedUrl(
  method: 'GET' | 'PUT',
  key: string,
  expiresInSeconds: number,
  options: { headers?: Record<string, string>; query?: Record<string, string> },
): Promise<string> {
  const config = getConfig();
  const name = bucket();
  const encodedKey = key.split('/').map(uriEncode).join('/');
  const endpoint = config.S3_ENDPOINT
    ? new URL(config.S3_ENDPOINT)
    : new URL(`https://${name}.s3.${config.AWS_REGION}.amazonaws.com`);
  const base = endpoint.pathname.replace(/\/$/, '');
  const path = config.S3_ENDPOINT ? `${base}/${name}/${encodedKey}` : `/${encodedKey}`;
  const port = endpoint.port ? Number(endpoint.port) : undefined;
  const query = await presignQuery({
    service: 's3',
    region: config.AWS_REGION,
    credentials: environmentCredentials(config),
    method,
    protocol: endpoint.protocol === 'http:' ? 'http:' : 'https:',
    hostname: endpoint.hostname,
    port,
    path,
    ...(options.query ? { query: options.query } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    expiresInSeconds,
    payloadHash: 'UNSIGNED-PAYLOAD',
    uriEscapePath: false,
  });
  return `${endpoint.protocol}//${endpoint.host}${path}?${query}`;
}

/** The role's credentials Lambda puts in the environment. Errors: `ConfigError` without them. */
function environmentCredentials(config: ReturnType<typeof getConfig>): AwsCredentials {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = config;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
    throw new ConfigError(
      describeEnvironmentProblems([
        {
          name: 'AWS_ACCESS_KEY_ID',
          message: 'and AWS_SECRET_ACCESS_KEY are required to presign (Lambda sets them)',
        },
      ]),
    );
  }
  return {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
}

function checkExpiry(expiresInSeconds: number): void {
  if (
    !Number.isInteger(expiresInSeconds) ||
    expiresInSeconds < 1 ||
    expiresInSeconds > MAX_PRESIGN_SECONDS
  ) {
    throw new RangeError(
      `expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_SECONDS}, not ${expiresInSeconds}`,
    );
  }
}

/** The HTTP status of an SDK error, when it has one. */
function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNamed(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** What a presigned PUT needs: the URL, and the headers the upload must send exactly. */
export interface PresignedPut {
  url: string;
  headers: { 'content-type': string; 'content-length': string };
}

/**
 * A presigned PUT of `key` in the files bucket for a body of exactly `contentLength` bytes of
 * type `contentType`, valid `expiresInSeconds` (1 to 604,800). Both headers are signed, as
 * headers (`X-Amz-SignedHeaders=content-length;content-type;host`), not hoisted into the
 * query, so S3
 * refuses (403 `SignatureDoesNotMatch`) an upload of another type or size. The uploader must
 * send `headers` as they are. No request is made (so no trace subsegment).
 * Errors: `RangeError` (bad length or expiry), `ConfigError` (no `FILES_BUCKET`).
 */
export async function presignPut(input: {
  key: string;
  contentType: string;
  contentLength: number;
  expiresInSeconds: number;
}): Promise<PresignedPut> {
  const { key, contentType, contentLength, expiresInSeconds } = input;
  checkExpiry(expiresInSeconds);
  if (!Number.isInteger(contentLength) || contentLength < 0 || contentLength > MAX_PART_BYTES) {
    throw new RangeError(`contentLength must be an integer from 0 to ${MAX_PART_BYTES} bytes`);
  }
  const url = await presignedUrl('PUT', key, expiresInSeconds, {
    headers: { 'content-type': contentType, 'content-length': String(contentLength) },
  });
  return {
    url,
    headers: { 'content-type': contentType, 'content-length': String(contentLength) },
  };
}

/**
 * `Content-Disposition: attachment` with `name` (RFC 6266): a quoted ASCII fallback (other
 * characters, `"` and `\` become `_`) and, when the name is not plain ASCII, `filename*` in
 * UTF-8 (RFC 8187).
 */
export function attachmentDisposition(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are replaced
  const cleaned = name.replace(/[\u0000-\u001f\u007f]/g, '');
  const ascii = cleaned.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (ascii === cleaned) return `attachment; filename="${ascii}"`;
  const encoded = encodeURIComponent(cleaned).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * A presigned GET of `key`, valid `expiresInSeconds` (1 to 604,800). With `downloadName` S3
 * answers it with `Content-Disposition: attachment; filename=…` (the signed
 * `response-content-disposition` parameter), with `contentType` with that `Content-Type`
 * (`response-content-type`). Does not check that the object exists. No request is made.
 * Errors: `RangeError` (bad expiry), `ConfigError` (no `FILES_BUCKET`).
 */
export async function presignGet(input: {
  key: string;
  expiresInSeconds: number;
  downloadName?: string;
  contentType?: string;
}): Promise<string> {
  const { key, expiresInSeconds, downloadName, contentType } = input;
  checkExpiry(expiresInSeconds);
  const query: Record<string, string> = {};
  if (downloadName !== undefined) {
    query['response-content-disposition'] = attachmentDisposition(downloadName);
  }
  if (contentType !== undefined) query['response-content-type'] = contentType;
  return presignedUrl('GET', key, expiresInSeconds, { query });
}

/**
 * The size (bytes) and `Content-Type` of `key`, or null when there is no such object (S3
 * answers a HEAD with a bare 404, which the SDK names `NotFound`, or 403 to a caller without
 * s3:ListBucket). Errors: SDK errors (network, timeout), `ConfigError`.
 */
export async function headObject(
  key: string,
): Promise<{ size: number; contentType: string | undefined } | null> {
  const Bucket = bucket();
  const { sdk, client } = await loadS3();
  try {
    const head = await traced('S3', () =>
      client.send(new sdk.HeadObjectCommand({ Bucket, Key: key })),
    );
    return { size: head.ContentLength ?? 0, contentType: head.ContentType };
  } catch (error) {
    if (isNamed(error, 'NotFound', 'NoSuchKey') || statusOf(error) === 404) return null;
    // Without s3:ListBucket (the functions get none), S3 answers a HEAD of a missing key
    // with 403 (AWS S3 API reference, HeadObject: "If you don't have the s3:ListBucket
    // permission, Amazon S3 returns … 403"); a function granted s3:GetObject on the prefix
    // gets 403 only then.
    if (statusOf(error) === 403 || isNamed(error, 'Forbidden')) return null;
    throw error;
  }
}

/**
 * The body of `key` as a Node `Readable`. The caller must consume or destroy the stream (it
 * holds a connection). Errors: `ObjectNotFound`; SDK errors; `ConfigError`. A stream that
 * breaks midway (network, the 30 s idle timeout) emits `error`.
 */
export async function getObjectStream(key: string): Promise<Readable> {
  const Bucket = bucket();
  const { sdk, client } = await loadS3();
  try {
    const object = await traced('S3', () =>
      client.send(new sdk.GetObjectCommand({ Bucket, Key: key })),
    );
    // In Node the SDK's body is the response's IncomingMessage (a Readable) with helpers mixed in.
    return object.Body as Readable;
  } catch (error) {
    if (isNamed(error, 'NoSuchKey', 'NotFound') || statusOf(error) === 404) {
      throw new ObjectNotFound(key);
    }
    throw error;
  }
}

/**
 * Writes `body` (at most 5 GiB; locally fauxqs takes at most 11 MiB in one request) as `key`
 * with `contentType`, replacing any object of that key. Errors: SDK errors, `ConfigError`.
 */
export async function putObject(
  key: string,
  body: Buffer | string,
  contentType: string,
): Promise<void> {
  const Bucket = bucket();
  const { sdk, client } = await loadS3();
  await traced('S3', () =>
    client.send(
      new sdk.PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType }),
    ),
  );
}

/**
 * Starts a multipart upload of `key` with `contentType`; returns its upload id. An upload
 * that is never completed or aborted keeps its parts (and their cost) until the bucket's
 * lifecycle rule removes it, so a caller aborts on failure. Errors: SDK errors, `ConfigError`.
 */
export async function createMultipartUpload(key: string, contentType: string): Promise<string> {
  const Bucket = bucket();
  const { sdk, client } = await loadS3();
  const created = await traced('S3', () =>
    client.send(
      new sdk.CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: contentType }),
    ),
  );
  if (!created.UploadId) throw new Error(`S3 returned no UploadId for ${key}`);
  return created.UploadId;
}

/**
 * Uploads part `partNumber` (1 to 10,000) of an upload; returns the part's ETag, which
 * `completeMultipartUpload` needs. Every part but the last must be at least `MIN_PART_BYTES`
 * (checked by S3 only at completion), none more than 5 GiB; locally fauxqs takes at most
 * 11 MiB per request. Uploading a part number again replaces it.
 * Errors: `RangeError` (part number, size), SDK errors (`NoSuchUpload`…), `ConfigError`.
 */
export async function uploadPart(
  key: string,
  uploadId: string,
  partNumber: number,
  body: Buffer,
): Promise<string> {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new RangeError(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER}`);
  }
  if (body.length > MAX_PART_BYTES) throw new RangeError('a part is at most 5 GiB');
  const Bucket = bucket();
  const { sdk, client } = await loadS3();
  const uploaded = await traced('S3', () =>
    client.send(
      new sdk.UploadPartCommand({
        Bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
      }),
    ),
  );
  if (!uploaded.ETag) throw new Error(`S3 returned no ETag for part ${partNumber} of ${key}`);
  return uploaded.ETag;
}

/**
 * Completes an upload from its parts (`partNumber` and the ETag `uploadPart` returned), sent
 * in ascending part order as S3 requires (sorted here). The object then exists as `key`.
 * Errors: SDK errors (`EntityTooSmall`: a part but the last under `MIN_PART_BYTES`;
 * `InvalidPart`; `NoSuchUpload`), `RangeError` (no parts), `ConfigError`.
 */
export async function completeMultipartUpload(
  key: string,
  uploadId: string,
  parts: ReadonlyArray<{ partNumber: number; etag: string }>,
): Promise<void> {
  if (parts.length === 0) throw new RangeError('a multipart upload needs at least one part');
  const Bucket = bucket();
  const { sdk, client } = await loadS3();
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  await traced('S3', () =>
    client.send(
      new sdk.CompleteMultipartUploadCommand({
        Bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: sorted.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
        },
      }),
    ),
  );
}

/**
 * Aborts an upload and frees its parts. An upload already gone (`NoSuchUpload`: aborted,
 * completed, or never there) is not an error, so it is safe to call in cleanup.
 * Errors: other SDK errors, `ConfigError`.
 */
export async function abortMultipartUpload(key: string, uploadId: string): Promise<void> {
  const Bucket = bucket();
  const { sdk, client } = await loadS3();
  try {
    await traced('S3', () =>
      client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId })),
    );
  } catch (error) {
    if (isNamed(error, 'NoSuchUpload')) return;
    throw error;
  }
}
