import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest } from '../../../shared/errors.js';
import { versionETag } from '../../../shared/http/conditional.js';
import { conditionalRequest } from '../../../shared/http/middleware/conditional-request.js';
import { problemDetails } from '../../../shared/http/middleware/problem-details.js';
import { fuzzRuns, httpEvent, problemOf, requestState, stack, withState } from './harness.js';

/** Runs `conditionalRequest` on one `If-Match` value; returns the status and what it parsed. */
async function ifMatchOf(header: string | undefined) {
  let parsed: number[] | null | undefined;
  const call = stack(
    [withState(() => requestState()), problemDetails(), conditionalRequest()],
    async (_event, context) => {
      parsed = context.requestState.ifMatch;
      return { statusCode: 200 };
    },
  );
  const result = await call(
    httpEvent({ headers: header === undefined ? {} : { 'if-match': header } }),
  );
  return { status: result.statusCode, parsed, result };
}

const version = fc.integer({ min: 1, max: 9_999_999_999 });
const ows = fc.constantFrom('', ' ', '\t', '  ');
/** An opaque tag (RFC 9110 §8.8.3 etagc, ASCII) that is not a version: letters, 0, a leading 0. */
const foreignOpaque = fc.oneof(
  fc
    .stringMatching(/^[\x21\x23-\x2b\x2d-\x7e]{0,12}$/)
    .filter((tag) => !/^[1-9]\d{0,9}$/.test(tag)),
  fc.constantFrom('0', '007', '12345678901'),
);

describe('conditionalRequest middleware (If-Match, RFC 9110 §13.1.1)', () => {
  it('gives null for an absent header or *, and the versions of strong tags otherwise', async () => {
    expect(await ifMatchOf(undefined)).toMatchObject({ status: 200, parsed: null });
    expect(await ifMatchOf(' * ')).toMatchObject({ status: 200, parsed: null });
    expect(await ifMatchOf('"3"')).toMatchObject({ status: 200, parsed: [3] });
    expect(await ifMatchOf('"3", W/"4" ,"5"')).toMatchObject({ status: 200, parsed: [3, 5] });
    expect(await ifMatchOf('W/"3"')).toMatchObject({ status: 200, parsed: [] });
  });

  it('answers a header that is not * or a list of entity tags with 400', async () => {
    for (const bad of ['3', 'abc', '"3', '"3",', '**', '"3" "4"']) {
      const { status, result } = await ifMatchOf(bad);
      expect(status, bad).toBe(400);
      expect(problemOf(result).detail, bad).toContain('If-Match');
    }
  });

  it('reads back every strong version ETag of any list, in order, and no weak or foreign one', async () => {
    const tag = fc.oneof(
      version.map((v) => ({ text: versionETag(v), version: v as number | undefined })),
      version.map((v) => ({ text: `W/${versionETag(v)}`, version: undefined })),
      foreignOpaque.map((opaque) => ({ text: `"${opaque}"`, version: undefined })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(ows, tag, ows), { minLength: 1, maxLength: 6 }),
        async (parts) => {
          const header = parts.map(([before, t, after]) => `${before}${t.text}${after}`).join(',');
          const { status, parsed } = await ifMatchOf(header);
          expect(status).toBe(200);
          expect(parsed).toEqual(
            parts.flatMap(([, t]) => (t.version === undefined ? [] : [t.version])),
          );
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });

  it('answers any header value with a parsed list, null or 400, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 })),
        async (header) => {
          const { status, parsed } = await ifMatchOf(header);
          expect([200, 400]).toContain(status);
          if (status === 200) {
            expect(parsed === null || parsed?.every((v) => Number.isSafeInteger(v) && v > 0)).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });

  // RFC 9110 §8.8.3: etagc includes ",", so `"a,b"` is one entity tag (a 412, not a 400).
  it('takes an entity tag that contains a comma as one tag', async () => {
    expect(await ifMatchOf('"a,b"')).toMatchObject({ status: 200, parsed: [] });
    expect(await ifMatchOf('"x,1", "2"')).toMatchObject({ status: 200, parsed: [2] });
  });

  it('refuses a malformed header with the BadRequest of parseIfMatch', async () => {
    const middleware = conditionalRequest();
    const request = {
      event: httpEvent({ headers: { 'if-match': 'nope' } }),
      context: { requestState: requestState() },
    };
    expect(() => middleware.before?.(request as never)).toThrow(BadRequest);
  });
});
