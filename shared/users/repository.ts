import type { Role } from '../auth/tokens.js';
import { getSql, isUniqueViolation } from '../db/client.js';

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  password_hash: string;
  created_at: Date;
}

/** Inserts a user; returns null when the e-mail is taken (unique index `users_email_key`). */
export async function insertUser(user: {
  email: string;
  name: string | null;
  passwordHash: string;
}): Promise<UserRow | null> {
  try {
    const [row] = await getSql()<UserRow[]>`
      INSERT INTO users (email, name, password_hash)
      VALUES (${user.email}, ${user.name}, ${user.passwordHash})
      RETURNING id, email, name, role, password_hash, created_at`;
    return row ?? null;
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) return null;
    throw error;
  }
}

/** The user with this e-mail (compared case-insensitively), or null. */
export async function findUserByEmail(email: string): Promise<UserRow | null> {
  const [row] = await getSql()<UserRow[]>`
    SELECT id, email, name, role, password_hash, created_at
    FROM users WHERE lower(email) = lower(${email})`;
  return row ?? null;
}

/** The user with this id, or null. */
export async function findUserById(id: string): Promise<UserRow | null> {
  const [row] = await getSql()<UserRow[]>`
    SELECT id, email, name, role, password_hash, created_at FROM users WHERE id = ${id}`;
  return row ?? null;
}

/** Sets the role of the user with this e-mail; returns the updated row or null. */
export async function updateRoleByEmail(email: string, role: Role): Promise<UserRow | null> {
  const [row] = await getSql()<UserRow[]>`
    UPDATE users SET role = ${role}, updated_at = now()
    WHERE lower(email) = lower(${email})
    RETURNING id, email, name, role, password_hash, created_at`;
  return row ?? null;
}

/** Replaces a user's password hash (re-hash with current parameters at login). */
export async function updatePasswordHash(id: string, passwordHash: string): Promise<void> {
  await getSql()`UPDATE users SET password_hash = ${passwordHash}, updated_at = now() WHERE id = ${id}`;
}
