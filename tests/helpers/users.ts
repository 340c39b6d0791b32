import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Role } from '../../shared/auth/tokens.js';
import { setRole } from '../../shared/users/service.js';
import type { Api } from './api.js';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

/** A unique e-mail address for one test. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID()}@example.com`;
}

/** Registers a user through the API, optionally makes them admin, and logs them in. */
export async function createUser(api: Api, role: Role = 'user'): Promise<TestUser> {
  const email = uniqueEmail(role);
  const password = 'correct horse battery';
  const registered = await api.post('/api/v1/auth/register', { body: { email, password } });
  expect(registered.status).toBe(201);
  if (role !== 'user') await setRole(email, role);
  const login = await api.post('/api/v1/auth/login', { body: { email, password } });
  expect(login.status).toBe(200);
  return { id: registered.body.id, email, password, token: login.body.access_token };
}
