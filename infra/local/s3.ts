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
 * fauxqs keeps S3 in memory: its `start()` after a `stop()` is a new, empty server, so the
 * bucket is created again on the first request that reaches the new one (`ensureBucket`).
 * Limits of fauxqs: at most 11 MiB per request body (Fastify's `bodyLimit`; a larger single
 * PUT answers 413 — use multipart parts of ≤ 11 MiB locally), no lifecycle expiry, checksums
 * stored but not checked.
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

  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    try {
      if (!(await authorize(req, res))) return;
      // An upload that waits for `100 Continue` gets it only once it is authorized, as from S3.
      if (expectsContinue) res.writeContinue();
      const url = req.url ?? '/';
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
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
        if (!server.listening) return resolve();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    start: () => (server.listening ? Promise.resolve() : listen(port)),
  };
}
