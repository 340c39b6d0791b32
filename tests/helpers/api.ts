import { afterAll, beforeAll, expect } from 'vitest';
import * as core from 'zod/v4/core';
import { startGateway } from '../../infra/local/gateway.js';
import { Problem } from '../../shared/http/schemas.js';
import { resolveRoute } from '../../shared/routes/index.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience
  body: any;
}

export interface RequestOptions {
  token?: string;
  /** JSON-encoded unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number>;
}

function isZod(value: unknown): value is core.$ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/**
 * Checks a response against the route table: a status the route declares must carry a body
 * that parses with the declared schema (or the declared media type, or no body); any other
 * status must be an error in RFC 9457 problem JSON whose `request_id` equals `X-Request-ID`.
 */
export function expectMatchesContract(method: string, path: string, response: ApiResponse): void {
  expect(response.headers.get('x-request-id')).toBeTruthy();
  const resolved = resolveRoute(method, path);
  const route = resolved && 'route' in resolved ? resolved.route : undefined;
  const declared = route?.responses[response.status];
  if (declared === undefined) {
    if (response.status < 400) {
      throw new Error(
        `${method} ${path} answered ${response.status}, which its route does not declare`,
      );
    }
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = Problem.parse(response.body);
    expect(problem.status).toBe(response.status);
    expect(problem.request_id).toBe(response.headers.get('x-request-id'));
    expect(response.text).not.toMatch(/stack|at .*\.ts:\d+|postgres|syntax error|SQLSTATE/i);
    return;
  }
  if (isZod(declared)) {
    const result = core.safeParse(declared, response.body);
    if (!result.success) {
      throw new Error(
        `${method} ${path} ${response.status} body breaks its schema: ${result.error.message}`,
      );
    }
  } else if (declared === null) {
    expect(response.text).toBe('');
  } else {
    const [type = '', subtype = ''] = declared.mediaType.split(';', 1)[0]?.split('/') ?? [];
    const actual = response.headers.get('content-type') ?? '';
    expect(actual.startsWith(subtype === '*' ? `${type}/` : `${type}/${subtype}`), actual).toBe(
      true,
    );
  }
}

/**
 * A client of the local gateway started for this test file (real handlers, real database).
 * Every response is checked with `expectMatchesContract`.
 */
export function useApi() {
  let baseUrl = '';
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const gateway = await startGateway({ port: 0 });
    baseUrl = gateway.url;
    close = gateway.close;
  });
  afterAll(() => close());

  async function request(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    else if (options.contentType) headers['content-type'] = options.contentType;
    const query = options.query
      ? `?${new URLSearchParams(Object.entries(options.query).map(([k, v]): [string, string] => [k, String(v)]))}`
      : '';
    const res = await fetch(`${baseUrl}${path}${query}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const response = { status: res.status, headers: res.headers, text, body: parsed };
    expectMatchesContract(method, new URL(`${baseUrl}${path}`).pathname, response);
    return response;
  }

  return {
    get url() {
      return baseUrl;
    },
    request,
    get: (path: string, options?: RequestOptions) => request('GET', path, options),
    post: (path: string, options?: RequestOptions) => request('POST', path, options),
    put: (path: string, options?: RequestOptions) => request('PUT', path, options),
    patch: (path: string, options?: RequestOptions) => request('PATCH', path, options),
    delete: (path: string, options?: RequestOptions) => request('DELETE', path, options),
  };
}

export type Api = ReturnType<typeof useApi>;
