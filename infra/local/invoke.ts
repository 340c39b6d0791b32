/**
 * `npm run invoke -- <function> <event.json> [--user <email>] [--headers | --json]`: runs one
 * handler on one event, like `sam local invoke -e <event.json>`, without Docker. `<function>`
 * is the handler file under functions/ without extension (`notes/get`). The environment is
 * the running dev stack's, else `DATABASE_URL`, else the local database in `.local/pg`
 * started for the call.
 *
 * `--user` replaces the event's Authorization header with a fresh token for that user, and
 * when the event names the samples' placeholder note id (events/notes-*.json), first creates
 * a note for that user and uses its id (archived first for notes/restore), saying so on
 * stderr. Without `--user`, a sample carrying the placeholder token is answered 401; a hint
 * on stderr says so.
 *
 * Output: an HTTP result prints its status line, the headers a caller acts on (see
 * `SHOWN_HEADERS`; `--headers` prints all, with the security headers every response carries)
 * and the body (JSON pretty-printed); `--json` prints the handler's raw result object, as
 * `sam local invoke` does. Any other result (workers, deploy functions) prints as JSON.
 */
import { readFile } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { parseArgs } from 'node:util';
import { lambdaContext, loadHandler } from './lambda.js';
import { type LocalDatabase, localEnvironment, startLocalDatabase } from './stack.js';
import { KEYS_FILE, PG_DATA_DIR, readRunningStack } from './state.js';

/** The note id of the sample events (events/notes-*.json): no such note exists. */
const SAMPLE_NOTE_ID = '3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70';
/** The sample events' Authorization header: a placeholder `--user` replaces. */
const SAMPLE_AUTHORIZATION = 'Bearer REPLACE_WITH_ACCESS_TOKEN';

/**
 * Response headers printed by default (lower-case): what says what the body is and where it
 * lives, how to match it, how to trace it, and what to do next (RFC 9110 `Allow`,
 * `Location`, `ETag`, `Retry-After`, `WWW-Authenticate`; `RateLimit-*`; `X-Cache`).
 */
const SHOWN_HEADERS = [
  'content-type',
  'location',
  'etag',
  'allow',
  'www-authenticate',
  'retry-after',
  'x-request-id',
  'x-cache',
];
const isShown = (name: string) =>
  SHOWN_HEADERS.includes(name.toLowerCase()) || /^ratelimit(-|$)/i.test(name);

const USAGE =
  'Usage: npm run invoke -- <function> <event.json> [--user <email>] [--headers | --json]';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string' },
    headers: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const [fn, eventFile] = positionals;
if (!fn || !eventFile || (values.headers && values.json)) {
  console.error(USAGE);
  console.error('Example: npm run invoke -- health/check events/health-check.json');
  process.exit(2);
}

/** An API Gateway v2 (payload format 2.0) result, as the HTTP handlers return it. */
interface HttpResult {
  statusCode: number;
  headers?: Record<string, string | number | boolean>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

const isHttpResult = (value: unknown): value is HttpResult =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as HttpResult).statusCode === 'number';

/**
 * An HTTP result as text: `HTTP <status> <reason>`, the headers (all, or only the shown ones
 * and a count of the rest), a blank line, the body (JSON pretty-printed; base64 as a size).
 */
function formatHttpResult(result: HttpResult, allHeaders: boolean): string {
  const lines = [`HTTP ${result.statusCode} ${STATUS_CODES[result.statusCode] ?? ''}`.trimEnd()];
  const headers = Object.entries(result.headers ?? {});
  const shown = allHeaders ? headers : headers.filter(([name]) => isShown(name));
  for (const [name, value] of shown) lines.push(`${name}: ${value}`);
  for (const cookie of result.cookies ?? []) lines.push(`Set-Cookie: ${cookie}`);
  if (shown.length < headers.length) {
    lines.push(`(${headers.length - shown.length} more headers: --headers shows them)`);
  }
  let body = result.body ?? '';
  if (result.isBase64Encoded) {
    body = `(${Buffer.from(body, 'base64').length} bytes of binary body)`;
  } else if (body) {
    try {
      body = JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      // not JSON: as it is
    }
  }
  return body ? `${lines.join('\n')}\n\n${body}` : lines.join('\n');
}

/** Replaces the placeholder note id in the event's path fields with `id`. */
// biome-ignore lint/suspicious/noExplicitAny: any event shape
function useNoteId(event: Record<string, any>, id: string): void {
  event.pathParameters = { ...event.pathParameters, id };
  if (typeof event.rawPath === 'string') event.rawPath = event.rawPath.replace(SAMPLE_NOTE_ID, id);
  const http = event.requestContext?.http;
  if (typeof http?.path === 'string') http.path = http.path.replace(SAMPLE_NOTE_ID, id);
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
  // biome-ignore lint/suspicious/noExplicitAny: any event shape
  const event: Record<string, any> = JSON.parse(await readFile(eventFile, 'utf8'));
  const needsNote = event.pathParameters?.id === SAMPLE_NOTE_ID && fn.startsWith('notes/');
  if (values.user) {
    const { findUserByEmail } = await import('../../shared/users/repository.js');
    const { issueAccessToken } = await import('../../shared/auth/tokens.js');
    const user = await findUserByEmail(values.user);
    if (!user) throw new Error(`No user has the e-mail ${values.user}.`);
    const { token } = await issueAccessToken(user);
    event.headers = { ...event.headers, authorization: `Bearer ${token}` };
    if (needsNote) {
      const { archiveNote, createNote } = await import('../../shared/notes/service.js');
      const note = await createNote(user.id, {
        title: `Sample note for ${fn}`,
        content:
          'Created by npm run invoke because the sample event names a note that does not exist.',
      });
      if (fn === 'notes/restore') await archiveNote(user.id, note.id);
      useNoteId(event, note.id);
      console.error(
        `Created note ${note.id}${fn === 'notes/restore' ? ' (archived)' : ''} for ${user.email} and put its id in the event.`,
      );
    }
  } else if (event.headers?.authorization === SAMPLE_AUTHORIZATION) {
    console.error(
      `This sample needs a signed-in user: add --user <email> (npm run seed:demo makes one)${
        needsNote ? ', and a note of theirs is created for it' : ''
      }. Without it the answer is 401.`,
    );
  }
  const handler = await loadHandler(fn);
  const result = await handler(event, lambdaContext(fn));
  console.log(
    isHttpResult(result) && !values.json
      ? formatHttpResult(result, values.headers)
      : JSON.stringify(result, null, 2),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  exitCode = 1;
} finally {
  const { closeSql } = await import('../../shared/db/client.js');
  await closeSql();
  await database?.stop();
}
process.exit(exitCode);
