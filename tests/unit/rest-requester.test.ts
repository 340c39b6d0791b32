import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RestError,
  RestJsonError,
  RestTimeout,
  restRequester,
} from '../../shared/cache/rest-requester.js';

const bridge = {
  url: process.env.REDIS_REST_URL as string,
  token: process.env.REDIS_REST_TOKEN as string,
};

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A local HTTP server answering with `handle`; resolves to its URL. */
async function serve(
  handle: (request: IncomingMessage, response: ServerResponse, nth: number) => void,
): Promise<string> {
  let count = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => handle(request, response, ++count));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
};

describe('restRequester (the Upstash REST transport over node:http with keep-alive)', () => {
  it('runs single commands and pipelines against the REST bridge, strings as UTF-8', async () => {
    const post = restRequester({ ...bridge, timeoutMs: 2000 });
    const key = `rest-${randomUUID()}`;
    const value = 'é ✓ {"json": true}';
    await expect(post('/', ['SET', key, value])).resolves.toEqual({ result: 'OK' });
    await expect(post('/', ['GET', key])).resolves.toEqual({ result: value });
    await expect(
      post('/pipeline', [
        ['EXISTS', key],
        ['INCR', key],
      ]),
    ).resolves.toEqual([{ result: 1 }, { error: expect.stringContaining('not an integer') }]);
  });

  it('throws RestError with the server’s message and status for an error status (a wrong token)', async () => {
    const post = restRequester({ url: bridge.url, token: 'wrong', timeoutMs: 2000 });
    const answer = post('/', ['PING']);
    await expect(answer).rejects.toBeInstanceOf(RestError);
    await expect(answer).rejects.toMatchObject({ status: 401, message: 'Unauthorized' });
  });

  it('throws RestJsonError for a body that is not JSON', async () => {
    const url = await serve((_, response) => response.end('<html>'));
    const post = restRequester({ url, token: 't', timeoutMs: 2000 });
    await expect(post('/', ['PING'])).rejects.toBeInstanceOf(RestJsonError);
  });

  it('gives up with RestTimeout after timeoutMs when the server does not answer, and again on the next call', async () => {
    const url = await serve(() => {}); // never answers
    const post = restRequester({ url, token: 't', timeoutMs: 100 });
    const started = Date.now();
    await expect(post('/', ['PING'])).rejects.toBeInstanceOf(RestTimeout);
    await expect(post('/', ['PING'])).rejects.toBeInstanceOf(RestTimeout);
    // Two deadlines of 100 ms, not a hang (generous bound: a loaded CI machine).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('does not time out an answer that arrived while the event loop was blocked past the deadline', async () => {
    // The bridge runs in another process, so it answers while this one is busy.
    const post = restRequester({ ...bridge, timeoutMs: 100 });
    await post('/', ['PING']); // a connection to reuse
    const answer = post('/', ['PING']);
    await new Promise((resolve) => setImmediate(resolve)); // the request is on the wire
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // A synchronous task longer than the timeout: the timer and the answer are both due.
    }
    await expect(answer).resolves.toEqual({ result: 'PONG' });
  });

  it('keeps the first deadline when it sends a request again on a new socket', async () => {
    let n = 0;
    const url = await serve((request, response) => {
      n += 1;
      // 1: answered (the socket stays open); 2: its reused socket is cut; 3: the resend hangs.
      if (n === 1) json(response, 200, { result: 'PONG' });
      else if (n === 2) request.socket.destroy();
    });
    const post = restRequester({ url, token: 't', timeoutMs: 300 });
    await expect(post('/', ['PING'])).resolves.toEqual({ result: 'PONG' });
    await expect(post('/', ['PING'])).rejects.toBeInstanceOf(RestTimeout);
    expect(n).toBe(3);
  });

  it('sends the request again on a new socket when a reused keep-alive socket was closed', async () => {
    const seen: { socketRequests: number }[] = [];
    const perSocket = new WeakMap<object, number>();
    const url = await serve((request, response) => {
      const n = (perSocket.get(request.socket) ?? 0) + 1;
      perSocket.set(request.socket, n);
      seen.push({ socketRequests: n });
      // The second request on a connection finds it gone (as after a Lambda freeze).
      if (n === 2) request.socket.destroy();
      else json(response, 200, { result: 'PONG' });
    });
    const post = restRequester({ url, token: 't', timeoutMs: 2000 });
    await expect(post('/', ['PING'])).resolves.toEqual({ result: 'PONG' });
    await expect(post('/', ['PING'])).resolves.toEqual({ result: 'PONG' });
    expect(seen.map((s) => s.socketRequests)).toEqual([1, 2, 1]);
  });

  it('posts to the endpoint’s path prefix with the bearer token and a JSON body', async () => {
    const got: { url?: string; authorization?: string; type?: string }[] = [];
    const url = await serve((request, response) => {
      got.push({
        url: request.url,
        authorization: request.headers.authorization,
        type: request.headers['content-type'],
      });
      json(response, 200, [{ result: 1 }]);
    });
    const post = restRequester({ url: `${url}/prefix/`, token: 'tok', timeoutMs: 2000 });
    await post('/pipeline', [['PING']]);
    expect(got).toEqual([
      { url: '/prefix/pipeline', authorization: 'Bearer tok', type: 'application/json' },
    ]);
  });
});
