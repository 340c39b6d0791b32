import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors } from '@upstash/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { restRequester } from '../../shared/cache/rest-requester.js';

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

describe('restRequester (Upstash REST over node:http with keep-alive)', () => {
  it('runs single commands and pipelines against the REST bridge, strings as UTF-8', async () => {
    const requester = restRequester({ ...bridge, timeoutMs: 2000 });
    const key = `rest-${randomUUID()}`;
    const value = 'é ✓ {"json": true}';
    await expect(requester.request({ body: ['SET', key, value] })).resolves.toEqual({
      result: 'OK',
    });
    await expect(requester.request({ body: ['GET', key] })).resolves.toEqual({ result: value });
    await expect(
      requester.request({
        path: ['pipeline'],
        body: [
          ['EXISTS', key],
          ['INCR', key],
        ],
      }),
    ).resolves.toEqual([{ result: 1 }, { error: expect.stringContaining('not an integer') }]);
  });

  it('throws UpstashError with the server’s message for an error status (a wrong token)', async () => {
    const requester = restRequester({ url: bridge.url, token: 'wrong', timeoutMs: 2000 });
    const answer = requester.request({ body: ['PING'] });
    await expect(answer).rejects.toBeInstanceOf(errors.UpstashError);
    await expect(answer).rejects.toThrow('Unauthorized');
  });

  it('throws UpstashJSONParseError for a body that is not JSON', async () => {
    const url = await serve((_, response) => response.end('<html>'));
    const requester = restRequester({ url, token: 't', timeoutMs: 2000 });
    await expect(requester.request({ body: ['PING'] })).rejects.toBeInstanceOf(
      errors.UpstashJSONParseError,
    );
  });

  it('gives up after timeoutMs when the server does not answer', async () => {
    const url = await serve(() => {}); // never answers
    const requester = restRequester({ url, token: 't', timeoutMs: 100 });
    await expect(requester.request({ body: ['PING'] })).rejects.toThrow(/abort|timeout/i);
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
    const requester = restRequester({ url, token: 't', timeoutMs: 2000 });
    await expect(requester.request({ body: ['PING'] })).resolves.toEqual({ result: 'PONG' });
    await expect(requester.request({ body: ['PING'] })).resolves.toEqual({ result: 'PONG' });
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
    const requester = restRequester({ url: `${url}/prefix/`, token: 'tok', timeoutMs: 2000 });
    await requester.request({ path: ['pipeline'], body: [['PING']] });
    expect(got).toEqual([
      { url: '/prefix/pipeline', authorization: 'Bearer tok', type: 'application/json' },
    ]);
  });
});
