import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';

const saved = { ...process.env };
const savedCwd = process.cwd();
afterEach(() => {
  process.env = { ...saved };
  process.chdir(savedCwd);
  vi.resetModules();
});

/** Runs the rest of the test in a new empty folder, with `dotenv` as its `.env` if given. */
function inFolder(dotenv?: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
  if (dotenv !== undefined) writeFileSync(join(dir, '.env'), dotenv);
  process.chdir(dir);
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
}

/** The config module as a fresh Lambda instance (or process) would load it. */
async function load() {
  vi.resetModules();
  return import('../../shared/config.js');
}

/** The ConfigError message `getConfig()` throws for the current environment. */
async function configError(): Promise<string> {
  const { getConfig, ConfigError } = await load();
  try {
    getConfig();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('getConfig() accepted the environment');
}

describe('config', () => {
  it('names every missing or malformed variable in one clear error', async () => {
    delete process.env.STAGE;
    process.env.DATABASE_URL = 'mysql://nope';
    process.env.DB_POOL_MAX = 'lots';
    process.env.REDIS_REST_URL = 'https://redis.example.com';
    delete process.env.REDIS_REST_TOKEN;
    const message = await configError();
    for (const name of ['STAGE', 'DATABASE_URL', 'DB_POOL_MAX', 'REDIS_REST_TOKEN']) {
      expect(message).toContain(name);
    }
  });

  it('has no default STAGE: a missing one is an error that says what to set, never `local`', async () => {
    delete process.env.STAGE;
    expect(await configError()).toMatch(/STAGE: is required: the deployment stage \(`local`/);
    process.env.STAGE = 'Prod!';
    expect(await configError()).toMatch(/STAGE: must be a lower-case letter/);
    process.env.STAGE = 'dev';
    const { getConfig } = await load();
    expect(getConfig().STAGE).toBe('dev');
  });

  it('in Lambda, a function without STAGE refuses to start: loading the module throws', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'notes-api-dev-NotesGet';
    delete process.env.STAGE;
    await expect(load()).rejects.toThrow(/STAGE: is required/);
    process.env.STAGE = 'dev';
    await expect(load()).resolves.toBeDefined();
  });

  it('needs no database URL or keys on a function that uses neither (docs pages, liveness)', async () => {
    process.env = {
      STAGE: 'dev',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      REDIS_REST_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis',
    };
    const { getConfig } = await load();
    const config = getConfig();
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.JWT_SIGNING_KEYS).toBeUndefined();
    expect(config.JWT_PUBLIC_KEYS).toBeUndefined();
    expect(config.JWT_ISSUER).toBeUndefined();
  });

  it('applies defaults', async () => {
    delete process.env.ACCESS_TOKEN_TTL_SECONDS;
    const { getConfig } = await load();
    expect(getConfig().ACCESS_TOKEN_TTL_SECONDS).toBe(900);
  });

  it('says where to fix a variable: in .env or the environment', async () => {
    inFolder();
    process.env.DATABASE_URL = 'mysql://nope';
    expect(await configError()).toContain(
      'Invalid environment:\n  DATABASE_URL: must be a postgres:// or postgresql:// URL (set it in .env or the environment)',
    );
  });

  it('says when the bad value comes from .env, and when the environment overrides .env', async () => {
    inFolder('# local settings\nDATABASE_URL=mysql://from-dotenv\nREDIS_TIMEOUT_MS=5000\n');
    // What the tools' loader does: .env fills in what the environment does not set.
    process.env.DATABASE_URL = 'mysql://from-dotenv';
    process.env.REDIS_TIMEOUT_MS = 'fast';
    const message = await configError();
    expect(message).toContain(
      'DATABASE_URL: must be a postgres:// or postgresql:// URL (this value comes from .env)',
    );
    expect(message).toMatch(
      /REDIS_TIMEOUT_MS: .+ \(set in the environment, which overrides \.env\)/,
    );
  });

  it('in Lambda, names the variable without pointing at .env', async () => {
    inFolder('DATABASE_URL=mysql://nope\n');
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'notes-api-dev-NotesGet';
    process.env.DATABASE_URL = 'mysql://nope';
    await expect(load()).rejects.toThrow(
      /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL$/m,
    );
  });
});
