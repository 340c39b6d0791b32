import { describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/postgres.js';

// Point this file's functions at a port where nothing listens, before any handler loads.
process.env.DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${await freePort()}/postgres`;
process.env.DB_CONNECT_TIMEOUT_SECONDS = '1';

const { useApi } = await import('../helpers/api.js');
const { issueAccessToken } = await import('../../shared/auth/tokens.js');
const api = useApi();

describe('when the database is down', () => {
  it('/health answers 503 with db unavailable, within its probe bound', async () => {
    const response = await api.get('/health');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ status: 'unavailable', db: 'unavailable', redis: 'ok' });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('/health/live still answers 200', async () => {
    expect((await api.get('/health/live')).status).toBe(200);
  });

  it('a route that needs the database answers 503 problem+json with Retry-After, leaking nothing', async () => {
    const { token } = await issueAccessToken({ id: crypto.randomUUID(), role: 'user' });
    const response = await api.get('/api/v1/notes', { token });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(response.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);
  });
});
