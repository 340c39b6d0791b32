import { Signer } from '@aws-sdk/rds-signer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../shared/config.js';
import {
  type AwsCredentials,
  iamAuthTokenFor,
  lambdaCredentials,
  rdsAuthToken,
  withPassword,
} from '../../shared/db/iam-auth.js';

const HOST = 'notes-api-dev.proxy-abc.eu-west-1.rds.amazonaws.com';
const PROXY_URL = `postgres://notes_app@${HOST}:5432/notes?sslmode=verify-full`;
const REGION = 'eu-west-1';
const CLOCK = new Date('2025-03-04T05:06:07Z');
/** Example credentials (AWS docs' AKIDEXAMPLE): signing is local, nothing is sent. */
const KEYS: AwsCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
/** A session token with the characters that must be percent-encoded (`+`, `/`, `=`). */
const ROLE: AwsCredentials = {
  ...KEYS,
  sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc/def=',
};
const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
  vi.useRealTimers();
  vi.resetModules();
});

/** The Lambda runtime's credential variables (AWS Lambda docs, "Defined runtime environment variables"). */
function setRoleEnvironment(credentials: AwsCredentials) {
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  if (credentials.sessionToken) process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
  else delete process.env.AWS_SESSION_TOKEN;
}

/** What `@aws-sdk/rds-signer` gives for the same inputs, at `CLOCK`. */
async function referenceToken(credentials: AwsCredentials, port: number, username: string) {
  vi.useFakeTimers({ toFake: ['Date'], now: CLOCK });
  try {
    return await new Signer({
      hostname: HOST,
      port,
      username,
      region: REGION,
      credentials,
    }).getAuthToken();
  } finally {
    vi.useRealTimers();
  }
}

function parse(token: string): URL {
  expect(token).not.toMatch(/^https?:/);
  return new URL(`https://${token}`);
}

describe('RDS IAM authentication tokens', () => {
  it.each([
    ['an access key pair', KEYS, 5432, 'notes_app'],
    ['a role session', ROLE, 6543, 'app.user+1'],
  ])(
    'equal @aws-sdk/rds-signer’s token, signed with %s',
    async (_, credentials, port, username) => {
      const expected = await referenceToken(credentials, port, username);
      const token = await rdsAuthToken({
        hostname: HOST,
        port,
        username,
        region: REGION,
        credentials,
        signingDate: CLOCK,
      });
      expect(token).toBe(expected);
    },
  );

  it('signs a 15-minute rds-db connect request for the URL’s host, port and user', async () => {
    const token = await rdsAuthToken({
      hostname: HOST,
      port: 5432,
      username: 'notes_app',
      region: REGION,
      credentials: KEYS,
      signingDate: CLOCK,
    });
    const url = parse(token);
    expect(url.host).toBe(`${HOST}:5432`);
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('Action')).toBe('connect');
    expect(url.searchParams.get('DBUser')).toBe('notes_app');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toBe(
      'AKIDEXAMPLE/20250304/eu-west-1/rds-db/aws4_request',
    );
    expect(url.searchParams.get('X-Amz-Date')).toBe('20250304T050607Z');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(false);
  });

  it('carries the session token of role credentials, percent-encoded', async () => {
    const token = await rdsAuthToken({
      hostname: HOST,
      port: 5432,
      username: 'notes_app',
      region: REGION,
      credentials: ROLE,
    });
    const raw = /[?&]X-Amz-Security-Token=([^&]*)/.exec(token)?.[1];
    expect(raw).toMatch(/^[A-Za-z0-9%._~-]+$/);
    expect(parse(token).searchParams.get('X-Amz-Security-Token')).toBe(ROLE.sessionToken);
  });

  it('reads the Lambda role credentials from the runtime’s variables (as config parses them)', async () => {
    setRoleEnvironment(ROLE);
    expect(lambdaCredentials(process.env)).toEqual(ROLE);
    const url = parse(
      await iamAuthTokenFor(PROXY_URL, REGION, () => lambdaCredentials(process.env))(),
    );
    expect(url.host).toBe(`${HOST}:5432`);
    expect(url.searchParams.get('DBUser')).toBe('notes_app');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(ROLE.sessionToken);
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/,
    );
  });

  it('makes the same token as rds-signer from the URL and the environment', async () => {
    setRoleEnvironment(ROLE);
    const expected = await referenceToken(ROLE, 5432, 'notes_app');
    vi.useFakeTimers({ toFake: ['Date'], now: CLOCK });
    expect(await iamAuthTokenFor(PROXY_URL, REGION, () => lambdaCredentials(process.env))()).toBe(
      expected,
    );
  });

  it('rejects with a ConfigError naming the variables when the credentials are missing', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_SESSION_TOKEN;
    const token = iamAuthTokenFor(PROXY_URL, REGION, () => lambdaCredentials(process.env));
    await expect(token()).rejects.toBeInstanceOf(ConfigError);
    await expect(token()).rejects.toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    process.env.AWS_ACCESS_KEY_ID = KEYS.accessKeyId;
    expect(() => lambdaCredentials(process.env)).toThrow(ConfigError);
  });

  it('gives the postgres.js client a password function when DATABASE_IAM_AUTH is true', async () => {
    setRoleEnvironment(KEYS);
    process.env.DATABASE_URL = PROXY_URL;
    process.env.DATABASE_IAM_AUTH = 'true';
    process.env.AWS_REGION = REGION;
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
