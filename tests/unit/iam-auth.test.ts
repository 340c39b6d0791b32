import { afterEach, describe, expect, it, vi } from 'vitest';
import { iamAuthTokenFor, withPassword } from '../../shared/db/iam-auth.js';

const PROXY_URL =
  'postgres://notes_app@notes-api-dev.proxy-abc.eu-west-1.rds.amazonaws.com:5432/notes?sslmode=verify-full';
const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

/** Example credentials (AWS docs' AKIDEXAMPLE): signing is local, nothing is sent. */
function useExampleCredentials() {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

describe('RDS IAM authentication tokens', () => {
  it('signs a 15-minute rds-db connect request for the URL’s host, port and user', async () => {
    useExampleCredentials();
    const token = await iamAuthTokenFor(PROXY_URL, 'eu-west-1')();
    const url = new URL(`https://${token}`);
    expect(url.host).toBe('notes-api-dev.proxy-abc.eu-west-1.rds.amazonaws.com:5432');
    expect(url.searchParams.get('Action')).toBe('connect');
    expect(url.searchParams.get('DBUser')).toBe('notes_app');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/,
    );
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the postgres.js client a password function when DATABASE_IAM_AUTH is true', async () => {
    useExampleCredentials();
    process.env.DATABASE_URL = PROXY_URL;
    process.env.DATABASE_IAM_AUTH = 'true';
    process.env.AWS_REGION = 'eu-west-1';
    const { getSql } = await import('../../shared/db/client.js');
    const options = (getSql() as unknown as { options: { pass: unknown; ssl: unknown } }).options;
    expect(options.ssl).toBe('verify-full');
    expect(typeof options.pass).toBe('function');
    expect(await (options.pass as () => Promise<string>)()).toContain('DBUser=notes_app');
  });

  it('keeps the URL’s own password otherwise', async () => {
    process.env.DATABASE_URL = 'postgres://u:p%40ss@localhost:5432/db';
    process.env.DATABASE_IAM_AUTH = 'false';
    const { getSql } = await import('../../shared/db/client.js');
    expect((getSql() as unknown as { options: { pass: unknown } }).options.pass).toBe('p@ss');
  });

  it('puts a token into a URL as a percent-encoded password', () => {
    const url = withPassword('postgres://notes_admin@host:5432/notes', 'a/b?c=d&e');
    expect(new URL(url).password).toBe(encodeURIComponent('a/b?c=d&e'));
    expect(decodeURIComponent(new URL(url).password)).toBe('a/b?c=d&e');
  });
});
