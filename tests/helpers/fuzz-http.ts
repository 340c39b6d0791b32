/**
 * A raw HTTP/1.1 client for fuzzing the local gateway. Unlike `fetch`, it sends the
 * request-target exactly as given (no dot-segment removal, no re-encoding), any header
 * (repeated ones too), any body bytes, and chunked transfer coding on request.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/** One request as it goes on the wire. */
export interface WireRequest {
  method: string;
  /** Request-target as sent: the raw path (percent-encoded, dot segments kept) and `?query`. */
  target: string;
  /** Header name → value; an array sends the header once per value. */
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** Send the body in two chunks with `Transfer-Encoding: chunked` instead of `Content-Length`. */
  chunked?: boolean;
}

/** A response: status, lower-cased headers, the body as UTF-8 text and, if it is JSON, parsed. */
export interface WireResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: unknown;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * Percent-encodes `text` as one path segment or query component (RFC 3986 §2.1): every
 * character but the unreserved ones, as the %XX of its UTF-8 bytes. A lone surrogate, which
 * UTF-8 cannot carry, is sent as its 3-byte WTF-8 form (`%ED%A0%80`), as a careless client
 * would; the server must read that as invalid UTF-8, not crash.
 */
export function percentEncode(text: string): string {
  let out = '';
  for (const character of text) {
    if (UNRESERVED.test(character)) {
      out += character;
      continue;
    }
    const code = character.codePointAt(0) ?? 0;
    const bytes =
      code >= 0xd800 && code <= 0xdfff
        ? [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        : [...Buffer.from(character, 'utf8')];
    for (const byte of bytes) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `key=value&…` with both sides percent-encoded; repeated keys stay repeated. */
export function encodeQuery(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`).join('&');
}

/**
 * A client of the server at `baseUrl` (`http://host:port`) over a keep-alive agent.
 * `send` resolves with the response, or rejects when nothing complete arrives within
 * `timeoutMs` or the connection fails.
 */
export function createWireClient(baseUrl: string) {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  function send(wire: WireRequest, timeoutMs = 15_000): Promise<WireResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = { ...wire.headers };
      const body = wire.body;
      if (body !== undefined) {
        if (wire.chunked) headers['transfer-encoding'] = 'chunked';
        else headers['content-length'] = String(body.length);
      }
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: wire.method,
          path: wire.target,
          headers,
          agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text,
              body: parsed,
            });
          });
        },
      );
      request.setTimeout(timeoutMs, () =>
        request.destroy(new Error(`no response within ${timeoutMs} ms`)),
      );
      request.on('error', reject);
      if (body !== undefined && wire.chunked) {
        const half = Math.floor(body.length / 2);
        request.write(body.subarray(0, half));
        request.end(body.subarray(half));
      } else {
        request.end(body);
      }
    });
  }

  return { send, close: () => agent.destroy() };
}

export type WireClient = ReturnType<typeof createWireClient>;
