/**
 * `npm run migrate -- up [N] | down [N] | status`: applies, reverts (default one) or lists
 * the SQL migrations in migrations/ on `DATABASE_URL`, else on the running dev stack's
 * database.
 */
import { migrate, migrationStatus } from '../../shared/db/migrations.js';
import { resolveDatabaseUrl } from '../local/state.js';

const [command = 'status', countArg] = process.argv.slice(2);
const count = countArg === undefined ? undefined : Number(countArg);
if (!['up', 'down', 'status'].includes(command) || (count !== undefined && !(count > 0))) {
  console.error('Usage: npm run migrate -- up [N] | down [N] | status');
  process.exit(2);
}

try {
  const databaseUrl = resolveDatabaseUrl();
  if (command === 'status') {
    for (const { name, appliedAt } of await migrationStatus(databaseUrl)) {
      console.log(
        `${appliedAt ? `applied ${appliedAt.toISOString()}` : 'pending'.padEnd(32)}  ${name}`,
      );
    }
  } else {
    const ran = await migrate({
      databaseUrl,
      direction: command as 'up' | 'down',
      ...(count ? { count } : {}),
    });
    console.log(ran.length ? `${command}: ${ran.join(', ')}` : `${command}: nothing to do`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
