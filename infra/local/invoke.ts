/**
 * `npm run invoke -- <function> <event.json> [--user <email>]`: runs one handler on one event,
 * like `sam local invoke -e <event.json>`, without Docker. `<function>` is the handler file
 * under functions/ without extension (`notes/get`). The environment is the running dev
 * stack's, else `DATABASE_URL`, else the local database in `.local/pg` started for the call.
 * `--user` replaces the event's Authorization header with a fresh token for that user.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { lambdaContext, loadHandler } from './lambda.js';
import { type LocalDatabase, localEnvironment, startLocalDatabase } from './stack.js';
import { KEYS_FILE, PG_DATA_DIR, readRunningStack } from './state.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { user: { type: 'string' } },
});
const [fn, eventFile] = positionals;
if (!fn || !eventFile) {
  console.error('Usage: npm run invoke -- <function> <event.json> [--user <email>]');
  console.error('Example: npm run invoke -- health/check events/health-check.json');
  process.exit(2);
}

let database: LocalDatabase | undefined;
const running = readRunningStack();
if (running && !process.env.DATABASE_URL) {
  Object.assign(process.env, running.env);
} else {
  database = process.env.DATABASE_URL
    ? undefined
    : await startLocalDatabase({ dataDir: PG_DATA_DIR });
  const databaseUrl = process.env.DATABASE_URL ?? (database as LocalDatabase).url;
  const env = await localEnvironment({
    databaseUrl,
    issuer: running?.env.JWT_ISSUER ?? 'http://localhost:3000',
    keysFile: KEYS_FILE,
  });
  Object.assign(process.env, env);
}
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';

let exitCode = 0;
try {
  const event = JSON.parse(await readFile(eventFile, 'utf8'));
  if (values.user) {
    const { findUserByEmail } = await import('../../shared/users/repository.js');
    const { issueAccessToken } = await import('../../shared/auth/tokens.js');
    const user = await findUserByEmail(values.user);
    if (!user) throw new Error(`No user has the e-mail ${values.user}.`);
    const { token } = await issueAccessToken(user);
    event.headers = { ...event.headers, authorization: `Bearer ${token}` };
  }
  const handler = await loadHandler(fn);
  const result = await handler(event, lambdaContext(fn));
  console.log(JSON.stringify(result, null, 2));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  exitCode = 1;
} finally {
  const { closeSql } = await import('../../shared/db/client.js');
  await closeSql();
  await database?.stop();
}
process.exit(exitCode);
