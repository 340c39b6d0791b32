import { describe, expect, it } from 'vitest';
import { BadRequest } from '../../shared/errors.js';
import { parseIfMatch, versionETag } from '../../shared/http/conditional.js';
import { requestIdFrom } from '../../shared/http/handler.js';
import { compilePath } from '../../shared/http/route.js';
import { resolveRoute } from '../../shared/routes/index.js';

describe('If-Match', () => {
  it('accepts strong entity tags, lists and *', () => {
    expect(parseIfMatch(undefined)).toBeNull();
    expect(parseIfMatch('*')).toBeNull();
    expect(parseIfMatch('"3"')).toEqual([3]);
    expect(parseIfMatch('"3", "4" ,"5"')).toEqual([3, 4, 5]);
  });
  it('never matches weak or foreign tags (RFC 9110 strong comparison)', () => {
    expect(parseIfMatch('W/"3"')).toEqual([]);
    expect(parseIfMatch('"abc"')).toEqual([]);
    expect(parseIfMatch('"0"')).toEqual([]);
  });
  it('rejects a header that is not a list of entity tags', () => {
    for (const bad of ['3', 'abc', '"3', '"3",', '**'])
      expect(() => parseIfMatch(bad), bad).toThrow(BadRequest);
  });
  it('makes strong version ETags', () => {
    expect(versionETag(7)).toBe('"7"');
  });
});

describe('X-Request-ID', () => {
  it('keeps a valid client id and replaces anything else with a UUID', () => {
    expect(requestIdFrom({ 'x-request-id': 'abc-123._X' })).toBe('abc-123._X');
    expect(requestIdFrom({ 'x-request-id': 'a'.repeat(128) })).toBe('a'.repeat(128));
    for (const bad of ['a'.repeat(129), 'has space', 'a/b', '', '<script>']) {
      expect(requestIdFrom({ 'x-request-id': bad })).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('path templates', () => {
  it('matches one segment per parameter, decoded, and greedy parameters', () => {
    const match = compilePath('/api/v1/notes/{id}');
    expect(match('/api/v1/notes/abc%20d')).toEqual({ id: 'abc d' });
    expect(match('/api/v1/notes/a/b')).toBeNull();
    expect(match('/api/v1/notes/')).toBeNull();
    expect(compilePath('/{proxy+}')('/a/b/c')).toEqual({ proxy: 'a/b/c' });
  });
  it('resolves routes, and the methods of a known path for 405', () => {
    const found = resolveRoute('get', '/api/v1/notes/123');
    expect(found && 'route' in found && found.route.function).toBe('notes/get');
    expect(resolveRoute('POST', '/api/v1/notes/123')).toEqual({
      allow: ['GET', 'PUT', 'PATCH', 'DELETE'],
    });
    expect(resolveRoute('GET', '/nowhere')).toBeNull();
  });
});

describe('errorToProblem', () => {
  const context = { requestId: 'req-1', instance: '/api/v1/x' };

  it('answers a value PostgreSQL refused (SQLSTATE class 22) with 422, never 500', async () => {
    const { errorToProblem } = await import('../../shared/http/problem.js');
    for (const code of ['22003', '22007', '22008', '22P02', '22021']) {
      const error = Object.assign(new Error('value out of range'), { code });
      const response = errorToProblem(error, context);
      expect(response.statusCode, code).toBe(422);
      expect(JSON.parse(response.body as string)).toMatchObject({
        status: 422,
        request_id: 'req-1',
      });
      expect(response.body).not.toContain('out of range for type');
    }
  });

  it('keeps other errors a bare 500 that leaks nothing', async () => {
    const { errorToProblem } = await import('../../shared/http/problem.js');
    const error = Object.assign(new Error('syntax error at or near "x"'), { code: '42601' });
    const response = errorToProblem(error, context);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('syntax');
  });
});
