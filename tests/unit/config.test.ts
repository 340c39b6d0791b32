import { afterEach, describe, expect, it, vi } from 'vitest';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

describe('config', () => {
  it('names every missing or malformed variable in one clear error', async () => {
    process.env.DATABASE_URL = 'mysql://nope';
    delete process.env.JWT_ISSUER;
    delete process.env.JWT_SIGNING_KEYS;
    process.env.DB_POOL_MAX = 'lots';
    const { getConfig, ConfigError } = await import('../../shared/config.js');
    expect(() => getConfig()).toThrow(ConfigError);
    try {
      getConfig();
    } catch (error) {
      const message = (error as Error).message;
      for (const name of ['DATABASE_URL', 'JWT_ISSUER', 'DB_POOL_MAX', 'JWT_SIGNING_KEYS']) {
        expect(message).toContain(name);
      }
    }
  });
  it('applies defaults', async () => {
    const { getConfig } = await import('../../shared/config.js');
    delete process.env.ACCESS_TOKEN_TTL_SECONDS;
    expect(getConfig().ACCESS_TOKEN_TTL_SECONDS).toBe(900);
  });
});
