/**
 * The local cloud's S3: the files bucket (`FILES_BUCKET_NAME`) in fauxqs's S3, behind a small
 * `node:http` proxy that adds what fauxqs lacks, authentication of presigned URLs. fauxqs
 * serves S3 on the same port as SQS (SQS is `POST /` with an `x-amz-json-1.0` body, S3 is
 * `/<bucket>/<key>`) and checks no signature, so a presigned URL would never expire and an
 * upload of another type or size than signed would pass. The proxy:
 *
 * - verifies a presigned request (`X-Amz-Algorithm=AWS4-HMAC-SHA256…X-Amz-Signature` in the
 *   query) with `verifyPresignedRequest` (infra/local/presigned-url.ts): local access key,
 *   not expired, signature recomputed from this request's signed headers. A refusal is S3's
 *   XML error (403 `AccessDenied` "Request has expired", 403 `SignatureDoesNotMatch`, …);
 * - passes a request with an `Authorization: AWS4-HMAC-SHA256 …` header (the SDK in the
 *   functions, with the local credentials) through WITHOUT verifying it: those requests are
 *   the functions' own, and what matters locally is the presigned URLs handed to browsers;
 * - refuses anything else (403 `AccessDenied`), as S3 refuses an anonymous request to a
 *   private bucket;
 * - forwards the request, streamed both ways with its headers, path-style to fauxqs
 *   (`http://127.0.0.1:<fauxqs port>/<bucket>/<key>`, with a Host of an IP so fauxqs never
 *   takes it for virtual-hosted style), and applies the `response-content-disposition` /
 *   `response-content-type` (… ) parameters of a signed GET, which fauxqs ignores.
 *
 * - stores a large presigned PUT of an object (a `Content-Length` above 10 MiB, or none: a
 *   chunked body) as a multipart upload instead of forwarding it, because fauxqs takes at
 *   most 11 MiB per request body (Fastify's `bodyLimit`, hard-coded; a larger single PUT
 *   would answer 413) whereas S3 takes up to 5 GiB in one PUT. Once the request is verified,
 *   the proxy reads its body as it comes, in 8 MiB parts (S3's minimum is 5 MiB but for the
 *   last), with CreateMultipartUpload / UploadPart / CompleteMultipartUpload of
 *   @aws-sdk/client-s3 (path-style, the local credentials) and the request's Content-Type
 *   (and Content-Disposition, Cache-Control, Content-Encoding, Content-Language,
 *   `x-amz-meta-*`); it aborts the upload when a part fails or the client goes away (no
 *   object then), and answers as S3 answers a PUT: 200 with an `ETag` (the multipart kind,
 *   `"…-N"`, as S3 gives for an object stored in parts). At most one part is held in memory.
 *
 * fauxqs keeps S3 in memory: its `start()` after a `stop()` is a new, empty server, so the
 * bucket is created again on the first request that reaches the new one (`ensureBucket`).
 * Other limits of fauxqs: an SDK request (Authorization header) is forwarded as is, so its
 * body must be ≤ 11 MiB (use multipart parts of ≤ 11 MiB locally); no lifecycle expiry;
 * checksums stored but not checked.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { FILES_BUCKET_NAME } from '../../shared/files/prefixes.js';
import { isPresignedUrl, s3ErrorXml, verifyPresignedRequest } from './presigned-url.js';
import type { LocalQueues } from './sqs.js';

export interface LocalFiles {
  /** The proxy's endpoint, for `S3_ENDPOINT` (path-style). */
  endpoint: string;
  port: number;
  bucket: string;
  /** Environment for the functions: `S3_ENDPOINT`, `FILES_BUCKET`. */
  env: { S3_ENDPOINT: string; FILES_BUCKET: string };
  /** Creates the bucket in the current fauxqs server unless done already (idempotent). */
  ensureBucket(): void;
  /** Stops the proxy (an S3 outage; SQS keeps running); `start()` listens on the same port again. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and `expect`, which the proxy answers itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/**
 * The largest presigned PUT forwarded to fauxqs as one request (its `bodyLimit` is 11 MiB,
 * the headers count too); above this, or without a Content-Length, it is stored in parts.
 */
export const SINGLE_PUT_MAX_BYTES = 10 * 1024 * 1024;
/** The part size of such an upload (S3: at least 5 MiB but the last, at most 5 GiB). */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;

/** The `response-*` parameters of a signed GET and the header each overrides (S3 GetObject API). */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-disposition': 'content-disposition',
  'response-content-language': 'content-language',
  'response-content-encoding': 'content-encoding',
  'response-cache-control': 'cache-control',
  'response-expires': 'expires',
};

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/**
 * Starts the local S3 (see the module comment) on `options.port` (default any free port) of
 * 127.0.0.1, in front of the S3 of `queues`' fauxqs, and creates the files bucket there.
 * Credentials and region are those of `queues.env` (`AWS_ACCESS_KEY_ID`, …), the ones the
 * functions sign with.
 */
export async function startLocalFiles(
  queues: LocalQueues,
  options: { port?: number; now?: () => number } = {},
): Promise<LocalFiles> {
  const credentials = {
    accessKeyId: queues.env.AWS_ACCESS_KEY_ID ?? 'local',
    secretAccessKey: queues.env.AWS_SECRET_ACCESS_KEY ?? 'local',
  };
  const region = queues.env.AWS_REGION ?? 'us-east-1';
  const now = options.now ?? Date.now;
  let bucketIn: LocalQueues['server'] | undefined;
  const ensureBucket = () => {
    const server = queues.server;
    if (server === bucketIn) return;
    server.createBucket(FILES_BUCKET_NAME);
    bucketIn = server;
  };
  ensureBucket();

  const fail = (
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    resource?: string,
  ) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = s3ErrorXml(code, message, resource);
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase(),
    });
    res.end(body);
  };

  /** Whether the request may go on; answers it (and discards its body) when not. */
  const authorize = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? '/';
    if (isPresignedUrl(url)) {
      const verdict = await verifyPresignedRequest({
        method: req.method ?? 'GET',
        url,
        headers: req.headers,
        now: now(),
        credentials,
        region,
      });
      if (verdict.ok) return true;
      req.resume();
      fail(res, verdict.status, verdict.code, verdict.message, url.split('?')[0]);
      return false;
    }
    if (/^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? '')) return true;
    req.resume();
    fail(res, 403, 'AccessDenied', 'Access Denied', url.split('?')[0]);
    return false;
  };

  const forward = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    ensureBucket();
    const target = queues.server.port;
    const headers = withoutHopByHop(req.headers);
    headers.host = `127.0.0.1:${target}`;
    const upstream = httpRequest({
      host: '127.0.0.1',
      port: target,
      method: req.method,
      path: req.url,
      headers,
      // A connection per request: a kept-alive one could be the old fauxqs's after a restart.
      agent: false,
    });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      upstream.once('response', resolve);
      upstream.once('error', reject);
    });
    // The request body, streamed to fauxqs; a failure shows on `answered` (or the client went away).
    const sent = pipeline(req, upstream).catch(() => {});
    let response: IncomingMessage;
    try {
      response = await answered;
    } catch (error) {
      req.resume();
      fail(res, 503, 'ServiceUnavailable', `fauxqs S3 is unreachable: ${(error as Error).message}`);
      return;
    }
    const out = withoutHopByHop(response.headers);
    const status = response.statusCode ?? 502;
    if ((req.method === 'GET' || req.method === 'HEAD') && status >= 200 && status < 300) {
      for (const [parameter, header] of Object.entries(RESPONSE_OVERRIDES)) {
        const value = query.get(parameter);
        if (value !== null) out[header] = value;
      }
    }
    res.writeHead(status, response.statusMessage, out);
    await pipeline(response, res).catch(() => {
      upstream.destroy();
    });
    await sent;
  };

  // The SDK client of the current fauxqs server (a new one after a restart, whose port may
  // differ and whose old connections are gone).
  let sdk: { server: LocalQueues['server']; client: S3Client } | undefined;
  const fauxqsClient = (): S3Client => {
    if (sdk?.server !== queues.server) {
      sdk?.client.destroy();
      sdk = {
        server: queues.server,
        client: new S3Client({
          region,
          credentials,
          endpoint: `http://127.0.0.1:${queues.server.port}`,
          forcePathStyle: true,
          maxAttempts: 1,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }),
      };
    }
    return sdk.client;
  };

  /** A verified presigned PUT of an object too large for one fauxqs request? */
  const isLargePut = (req: IncomingMessage, query: URLSearchParams): boolean => {
    if (req.method !== 'PUT' || !isPresignedUrl(req.url ?? '/')) return false;
    // UploadPart, UploadPartCopy and CopyObject are not uploads of an object's body.
    if (query.has('uploadId') || query.has('partNumber') || req.headers['x-amz-copy-source']) {
      return false;
    }
    const length = req.headers['content-length'];
    return length === undefined || Number(length) > SINGLE_PUT_MAX_BYTES;
  };

  /** Stores the body of a large PUT in fauxqs as a multipart upload (see the module comment). */
  const storeInParts = async (req: IncomingMessage, res: ServerResponse) => {
    ensureBucket();
    const path = (req.url ?? '/').split('?')[0] as string;
    const [, bucketName = '', ...keyParts] = path.split('/').map((p) => decodeURIComponent(p));
    const key = keyParts.join('/');
    if (!bucketName || !key) {
      req.resume();
      fail(res, 400, 'InvalidRequest', 'A PUT needs a bucket and a key', path);
      return;
    }
    const client = fauxqsClient();
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(',') : value;
    };
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith('x-amz-meta-') && value !== undefined) {
        metadata[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? value.join(',') : value;
      }
    }
    const target = { Bucket: bucketName, Key: key };
    let uploadId: string | undefined;
    try {
      ({ UploadId: uploadId } = await client.send(
        new CreateMultipartUploadCommand({
          ...target,
          ContentType: header('content-type'),
          ContentDisposition: header('content-disposition'),
          CacheControl: header('cache-control'),
          ContentEncoding: header('content-encoding'),
          ContentLanguage: header('content-language'),
          ...(Object.keys(metadata).length ? { Metadata: metadata } : {}),
        }),
      ));
      if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      const parts: { PartNumber: number; ETag: string | undefined }[] = [];
      const send = async (body: Buffer) => {
        const PartNumber = parts.length + 1;
        const { ETag } = await client.send(
          new UploadPartCommand({ ...target, UploadId: uploadId, PartNumber, Body: body }),
        );
        parts.push({ PartNumber, ETag });
      };
      // Read the body as it comes; the loop waits while a part is sent (backpressure).
      let held: Buffer[] = [];
      let heldBytes = 0;
      let received = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        held.push(chunk);
        heldBytes += chunk.length;
        received += chunk.length;
        while (heldBytes >= UPLOAD_PART_BYTES) {
          const all = Buffer.concat(held, heldBytes);
          held = [all.subarray(UPLOAD_PART_BYTES)];
          heldBytes -= UPLOAD_PART_BYTES;
          await send(all.subarray(0, UPLOAD_PART_BYTES));
        }
      }
      const announced = req.headers['content-length'];
      if (!req.complete || (announced !== undefined && Number(announced) !== received)) {
        throw new Error(`The request body ended after ${received} bytes`);
      }
      // The last part (S3 needs at least one, even of 0 bytes).
      if (heldBytes > 0 || parts.length === 0) await send(Buffer.concat(held, heldBytes));
      const completed = await client.send(
        new CompleteMultipartUploadCommand({
          ...target,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      uploadId = undefined;
      res.writeHead(200, {
        etag: completed.ETag ?? '',
        'content-length': 0,
        'x-amz-request-id': randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase(),
      });
      res.end();
    } catch (error) {
      if (uploadId) {
        await client
          .send(new AbortMultipartUploadCommand({ ...target, UploadId: uploadId }))
          .catch(() => {});
      }
      // A body still coming (a part failed) is discarded; a client gone away gets no answer.
      if (!req.complete) req.resume();
      // fauxqs's own refusal (an S3 error with a status) is passed on as it gave it.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
        ?.httpStatusCode;
      if (status !== undefined && status >= 400) {
        fail(res, status, (error as Error).name, (error as Error).message, path);
      } else if (/ECONNREFUSED|ECONNRESET/.test(String(error))) {
        fail(
          res,
          503,
          'ServiceUnavailable',
          `fauxqs S3 is unreachable: ${(error as Error).message}`,
        );
      } else {
        fail(res, 500, 'InternalError', (error as Error).message, path);
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    try {
      if (!(await authorize(req, res))) return;
      // An upload that waits for `100 Continue` gets it only once it is authorized, as from S3.
      if (expectsContinue) res.writeContinue();
      const url = req.url ?? '/';
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
      if (isLargePut(req, query)) {
        await storeInParts(req, res);
        return;
      }
      await forward(req, res, query);
    } catch (error) {
      fail(res, 500, 'InternalError', (error as Error).message);
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res, false));
  server.on('checkContinue', (req, res) => void handle(req, res, true));

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket: FILES_BUCKET_NAME,
    env: { S3_ENDPOINT: endpoint, FILES_BUCKET: FILES_BUCKET_NAME },
    ensureBucket,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        sdk?.client.destroy();
        sdk = undefined;
        if (!server.listening) return resolve();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    start: () => (server.listening ? Promise.resolve() : listen(port)),
  };
}
