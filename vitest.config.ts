import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // One real PostgreSQL for the run (embedded, or DATABASE_URL), a fresh database in it.
    globalSetup: ['tests/setup/global.ts'],
    setupFiles: ['tests/setup/environment.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    env: { POWERTOOLS_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'SILENT' },
  },
});
