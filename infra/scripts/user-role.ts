/**
 * `npm run user:role -- <email> <user|admin>`: sets a user's role — the only way to make an
 * admin. Uses `DATABASE_URL` when set (e.g. a deployed stage's database through a tunnel),
 * else the running `npm run dev` stack's database.
 */
import { Role } from '../../shared/auth/tokens.js';
import { resolveDatabaseUrl } from '../local/state.js';

const [email, role] = process.argv.slice(2);
const parsedRole = Role.safeParse(role);
if (!email || !parsedRole.success) {
  console.error('Usage: npm run user:role -- <email> <user|admin>');
  process.exit(2);
}

let exitCode = 0;
try {
  process.env.DATABASE_URL = resolveDatabaseUrl();
  // The shared config needs a stage (it has no default); this command signs nothing.
  process.env.STAGE ??= 'local';
  const { setRole } = await import('../../shared/users/service.js');
  const user = await setRole(email, parsedRole.data);
  console.log(`${user.email} is now ${user.role}.`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  exitCode = 1;
} finally {
  const { closeSql } = await import('../../shared/db/client.js');
  await closeSql();
}
process.exit(exitCode);
