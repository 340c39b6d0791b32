import { afterEach, describe, expect, it, vi } from 'vitest';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

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
});
