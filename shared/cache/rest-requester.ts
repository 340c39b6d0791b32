import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Where and how to reach an Upstash REST endpoint (or the local bridge). */
export interface RestEndpoint {
  /** `https://…` (Upstash) or `http://…` (the local bridge, the ElastiCache bridge). */
  url: string;
  /** The bearer token of the endpoint. */
  token: string;
  /** Each request is aborted after this many ms (connecting included). */
  timeoutMs: number;
}

/** The endpoint answered with an error status; `message` is its `error` text. */
export class RestError extends Error {
  override name = 'RestError';
  constructor(
    message: string,
    /** The HTTP status, e.g. 400 for a command Redis refused, 401 for a wrong token. */
    readonly status: number,
  ) {
    super(message);
  }
}

/** The endpoint's answer was not JSON (a proxy's error page, a cut connection). */
export class RestJsonError extends Error {
  override name = 'RestJsonError';
}

/** No answer within the endpoint's `timeoutMs`. */
export class RestTimeout extends Error {
  override name = 'RestTimeout';
}

/** POSTs a JSON body to a path of the endpoint and resolves to the parsed JSON answer. */
export type RestPost = <T>(path: string, body: unknown) => Promise<T>;

/** Node's socket errors after which a request on a reused keep-alive socket is sent again. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * The HTTP transport of the Upstash REST protocol, on Node's own `http`/`https` client with a
 * keep-alive agent: `post(path, body)` sends `POST <url><path>` with `body` as JSON and
 * `Authorization: Bearer <token>`, and resolves to the JSON answer (Upstash REST API docs:
 * `{result}` / `{error}` for `/`, a list of them for `/pipeline`; strings as UTF-8 since no
 * `Upstash-Encoding` is asked for). Measured here on a two-command pipeline through the REST
 * bridge (3,000 calls, the bridge in its own process): `fetch` (undici) costs 450–710 µs of
 * CPU per round trip, Node's `http` 190–250 µs; one timer per request instead of an
 * `AbortSignal.timeout` saves another ~50 µs. A request on a reused socket that the server
 * had closed meanwhile (a Lambda instance thawed after a pause) is sent once more on a new
 * socket, as Node's docs advise for keep-alive agents (`request.reusedSocket`).
 * Errors: `RestError` (an error status, with the server's `error`), `RestJsonError` (a body
 * that is not JSON), `RestTimeout` after `timeoutMs`, Node's socket errors.
 */
export function restRequester(endpoint: RestEndpoint): RestPost {
  const base = new URL(endpoint.url);
  const secure = base.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const prefix = base.pathname.replace(/\/$/, '');
  const authorization = `Bearer ${endpoint.token}`;

  const once = <T>(path: string, body: string, deadline: number, retried: boolean) =>
    new Promise<T>((resolve, reject) => {
      let settled = false;
      const outgoing = send(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path,
          method: 'POST',
          agent,
          headers: {
            authorization,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) =>
          readAnswer<T>(response).then(
            (answer) => {
              settled = true;
              clearTimeout(timer);
              resolve(answer);
            },
            (error) => {
              settled = true;
              clearTimeout(timer);
              reject(error);
            },
          ),
      );
      // Timers run before I/O in Node's event loop: after the loop was blocked (a long
      // synchronous task, a GC pause, a saturated process) the answer may already wait in the
      // socket. The timeout then lets pending I/O run once (`setImmediate` runs after the poll
      // phase) and only counts when no answer came (Node docs, "The Node.js Event Loop").
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (!settled) {
              outgoing.destroy(new RestTimeout(`no answer within ${endpoint.timeoutMs} ms`));
            }
          }),
        Math.max(0, deadline - Date.now()),
      );
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        settled = true;
        clearTimeout(timer);
        if (!retried && outgoing.reusedSocket && STALE_SOCKET_CODES.has(error.code ?? '')) {
          once<T>(path, body, deadline, true).then(resolve, reject);
        } else {
          reject(error);
        }
      });
      outgoing.end(body);
    });

  return <T>(path: string, body: unknown) =>
    once<T>(`${prefix}${path}`, JSON.stringify(body), Date.now() + endpoint.timeoutMs, false);
}

/** The JSON answer of one REST call; rejects with `RestError` for an error status. */
function readAnswer<T>(response: IncomingMessage): Promise<T> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('error', reject);
    response.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        reject(new RestJsonError(`not JSON: ${text.slice(0, 200)}`, { cause: error }));
        return;
      }
      const status = response.statusCode ?? 500;
      if (status < 200 || status >= 300) {
        const message = (parsed as { error?: unknown } | null)?.error;
        reject(new RestError(String(message ?? `HTTP ${status}`), status));
        return;
      }
      resolve(parsed as T);
    });
  });
}
