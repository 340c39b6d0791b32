import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest, UnsupportedMediaType } from '../../shared/errors.js';
import { charsetOf, decodeBody } from '../../shared/http/body.js';

const both = { json: true, form: true };
const jsonOnly = { json: true, form: false };

/** `utf-8` in any mix of upper and lower case, maybe quoted. */
const utf8Spelling = fc
  .tuple(
    fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    fc.boolean(),
    fc.constantFrom('', ' '),
  )
  .map(([upper, quoted, space]) => {
    const name = [...'utf-8'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
    return `${space}${quoted ? `"${name}"` : name}`;
  });

/** A charset token (RFC 9110 token characters) that is not utf-8 in any case. */
const otherCharset = fc
  .oneof(
    fc.constantFrom(
      'latin1',
      'iso-8859-1',
      'utf-16',
      'UTF-16LE',
      'us-ascii',
      'utf8',
      'windows-1252',
    ),
    fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/),
  )
  .filter((name) => name.toLowerCase() !== 'utf-8');

describe('request body charset (JSON and forms are UTF-8)', () => {
  it('accepts charset=utf-8 in any case, quoted or not, on JSON and forms', () => {
    fc.assert(
      fc.property(utf8Spelling, fc.constantFrom('Charset', 'charset', 'CHARSET'), (value, name) => {
        const json = `application/json; ${name}=${value}`;
        expect(decodeBody('{"a":"é"}', false, json, both).value).toEqual({ a: 'é' });
        const form = `application/x-www-form-urlencoded;${name}=${value}`;
        expect(decodeBody('a=%C3%A9', false, form, both).value).toEqual({ a: 'é' });
      }),
    );
  });

  it('refuses any other charset with 415, before reading the body', () => {
    fc.assert(
      fc.property(otherCharset, fc.boolean(), (charset, form) => {
        const type = form ? 'application/x-www-form-urlencoded' : 'application/json';
        expect(() => decodeBody('{}', false, `${type}; charset=${charset}`, both)).toThrow(
          UnsupportedMediaType,
        );
      }),
    );
    expect(() => decodeBody('{}', false, 'application/json; charset=latin1', jsonOnly)).toThrow(
      UnsupportedMediaType,
    );
  });

  it('reads the charset parameter as RFC 9110 writes parameters', () => {
    expect(charsetOf('application/json')).toBeUndefined();
    expect(charsetOf('application/json; Charset="UTF-8"')).toBe('utf-8');
    expect(charsetOf('application/json;foo=bar; charset = latin1')).toBe('latin1');
    expect(charsetOf(undefined)).toBeUndefined();
  });

  it('answers 400 for bytes that are not UTF-8, and ignores a leading BOM', () => {
    const latin1 = Buffer.from('{"a":"\xe9"}', 'latin1').toString('base64');
    expect(() => decodeBody(latin1, true, 'application/json', both)).toThrow(BadRequest);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    expect(decodeBody(bom.toString('base64'), true, 'application/json', both).value).toEqual({
      a: 1,
    });
  });

  it('round-trips any JSON value sent as UTF-8 bytes (base64, as API Gateway sends binary)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const raw = Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
        const decoded = decodeBody(raw, true, 'application/json; charset=utf-8', both).value;
        expect(decoded).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});
