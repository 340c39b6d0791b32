/**
 * Fuzzing every route of the route table (and the `$default` fallback) through the local
 * gateway, as each kind of caller, with schema-valid requests generated from the route's zod
 * schemas and malformed ones made from them. Every response is checked against the contract
 * (tests/helpers/fuzz-contract.ts): never 5xx, errors as problem+json carrying the request id,
 * only declared statuses, declared 2xx bodies, no 422 for input the schemas accept.
 *
 * Bounded by default (`FUZZ_RUNS` per property for the route's own callers, a quarter of that
 * for the others); the seed is random unless `FUZZ_SEED` is set, printed, and named in every
 * failure with the command that replays it. `FUZZ_KEEP_GOING=1` records every failure instead
 * of stopping at the first, and prints the distinct failure classes at the end.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAccessToken } from '../../shared/auth/tokens.js';
import { DOCS_ASSETS } from '../../shared/docs/pages.js';
import type { RouteDefinition } from '../../shared/http/route.js';
import { encodeCursor } from '../../shared/notes/cursor.js';
import { ListNotesQuery } from '../../shared/notes/schemas.js';
import { fallbackRoute, type RouteName, routeList } from '../../shared/routes/index.js';
import { useApi } from '../helpers/api.js';
import {
  CALLERS,
  type Caller,
  contractViolations,
  declaredStatuses,
  expectOutcome,
  type Generated,
  routeName,
} from '../helpers/fuzz-contract.js';
import {
  createWireClient,
  type WireClient,
  type WireRequest,
  type WireResponse,
} from '../helpers/fuzz-http.js';
import {
  fallbackRequest,
  type Hints,
  malformedRequest,
  validRequest,
} from '../helpers/fuzz-requests.js';
import { semanticViolations } from '../helpers/fuzz-semantics.js';
import { createUser, type TestUser } from '../helpers/users.js';

// Uploads are presigned (no S3 call is made): a bucket name and credentials are enough.
Object.assign(process.env, {
  FILES_BUCKET: 'files',
  S3_ENDPOINT: 'http://127.0.0.1:9',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
});
const api = useApi();

function positiveInteger(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/** Runs per property for the route's own callers; the other callers get a quarter. */
const RUNS = positiveInteger(process.env.FUZZ_RUNS, 25);
const SEED = Number.isSafeInteger(Number(process.env.FUZZ_SEED))
  ? Number(process.env.FUZZ_SEED)
  : Math.floor(Math.random() * 2 ** 31);
const KEEP_GOING = process.env.FUZZ_KEEP_GOING === '1';
/** `FUZZ_VERBOSE=1`: one line per request (route, caller, what was sent, status, size). */
const VERBOSE = process.env.FUZZ_VERBOSE === '1';
const REPLAY = `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} npx vitest run tests/e2e/fuzz.test.ts`;
console.log(`fuzz: seed ${SEED}, ${RUNS} runs per property. Replay: ${REPLAY}`);

/** A property's own seed, derived from the suite's seed and the property's name. */
function seedFor(...parts: string[]): number {
  return createHash('sha256')
    .update(`${SEED}|${parts.join('|')}`)
    .digest()
    .readInt32BE(0);
}

const PASSWORD = 'correct horse battery';

/**
 * Routes whose schemas carry cross-field rules the generator does not aim for, so that a
 * generated "valid" request may rightly be refused with 422. Any other 422 for a generated
 * valid request is a failure: an undocumented rule, or a generator that needs fixing.
 */
const CROSS_FIELD_422: Partial<Record<RouteName, string>> = {
  // API.md § Inventory: starttimestamp ≤ endtimestamp.
  inventoryQuery: 'starttimestamp must not be after endtimestamp',
  // API.md § Notes: a PATCH sends at least one of title, content.
  updateNote: 'a PATCH needs at least one field',
  updateProduct: 'a PATCH needs at least one field',
  updateCustomer: 'a PATCH needs at least one field',
  // API.md § Orders: created_from ≤ created_to.
  listOrders: 'created_from must not be after created_to',
};

/**
 * Routes whose handler refuses with 422 input the schemas accept, and the only `errors[].code`s
 * it may give then: rules over stored data (an unknown or inactive product, user or customer)
 * and across lines (API.md § Orders: each product once, at most 20 units, an admin names the
 * customer), which no schema states.
 */
const HANDLER_422: Partial<Record<RouteName, readonly string[]>> = {
  createOrder: [
    'order_item_limit',
    'duplicate_product',
    'unknown_product',
    'inactive_product',
    'required',
    'unknown_customer',
  ],
  createCustomer: ['unknown_user'],
  // API.md § API keys: a scope the owner's role cannot use; `expires_at` in the future.
  createApiKey: ['scope_not_allowed', 'too_small'],
  // API.md § Background jobs: an import names an upload of the caller's.
  submitJob: ['unknown_upload'],
};

/** What the hints draw on: users, their notes, tokens, cursors; made once in `beforeAll`. */
interface World {
  user: TestUser;
  admin: TestUser;
  other: TestUser;
  notes: Record<'user' | 'admin' | 'other', string[]>;
  refreshTokens: string[];
  /** Tokens that must be refused: expired, tampered, wrongly signed, revoked. */
  badTokens: [string, string][];
  noteCursors: string[];
  /** The id of a user that does not exist (any more), for the `deleted account` caller. */
  deletedUserId: string;
}
let world: World;
let client: WireClient;
let host = '';

/**
 * An access token signed with our own private key (or `key`), with the claims and header
 * given; `iss` and `aud` are ours unless `claims` names them. For tokens that must fail
 * for one reason only.
 */
async function forge(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  times: { iat?: number; exp?: number; nbf?: number } = {},
  key?: Parameters<SignJWT['sign']>[0],
): Promise<string> {
  const signing = JSON.parse(process.env.JWT_SIGNING_KEYS as string).keys[0] as JWK & {
    kid: string;
  };
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ role: 'user', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: signing.kid, typ: 'at+jwt', ...header })
    .setJti(crypto.randomUUID())
    .setIssuedAt(times.iat ?? now)
    .setExpirationTime(times.exp ?? now + 600);
  // A claim given in `claims` (a wrong issuer, say) is kept, not overwritten.
  if (!('iss' in claims)) jwt.setIssuer(process.env.JWT_ISSUER as string);
  if (!('aud' in claims)) jwt.setAudience(process.env.JWT_AUDIENCE as string);
  if (times.nbf) jwt.setNotBefore(times.nbf);
  return jwt.sign(key ?? (await importJWK(signing, 'ES256')));
}

/** The public `x` coordinate of our signing key: what an attacker can read from the JWKS. */
const publicX = () => String(JSON.parse(process.env.JWT_SIGNING_KEYS as string).keys[0].x);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Tokens of `user` that every signed-in route must refuse with 401 (RFC 8725, API.md § Auth),
 * each with what is wrong with it: expired, not yet valid, tampered, unsigned, HS256 keyed
 * with public material, unknown `kid`, wrong `typ`/`iss`/`aud`/`sub`, revoked by logout.
 */
async function badTokens(user: TestUser): Promise<[string, string][]> {
  const now = Math.floor(Date.now() / 1000);
  const valid = await forge({ sub: user.id });
  const [h = '', p = '', s = ''] = valid.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const login = await api.post('/api/v1/auth/login', {
    body: { email: user.email, password: PASSWORD },
  });
  const revoked = login.body.access_token as string;
  await api.post('/api/v1/auth/logout', { token: revoked });
  return [
    [
      'expired beyond the 30 s skew',
      await forge({ sub: user.id }, {}, { iat: now - 1000, exp: now - 60 }),
    ],
    ['not yet valid', await forge({ sub: user.id }, {}, { nbf: now + 3600 })],
    ['payload tampered to admin', `${h}.${b64({ ...payload, role: 'admin' })}.${s}`],
    ['signature tampered', `${h}.${p}.${s.slice(0, -4)}AAAA`],
    ['signature removed', `${h}.${p}.`],
    ['alg none', `${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.`],
    [
      'HS256 with the public key as secret',
      await forge({ sub: user.id }, { alg: 'HS256' }, {}, new TextEncoder().encode(publicX())),
    ],
    ['unknown kid', await forge({ sub: user.id }, { kid: 'not-our-key' })],
    ['wrong typ', await forge({ sub: user.id }, { typ: 'JWT' })],
    ['wrong issuer', await forge({ sub: user.id, iss: 'https://evil.example' })],
    ['wrong audience', await forge({ sub: user.id, aud: 'someone-else' })],
    ['sub not a user id', await forge({ sub: 'constructor' })],
    ['revoked by logout', revoked],
  ];
}

/** `Authorization` values that are no bearer token at all, or a token of garbage. */
const garbageAuthorization: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,300}=*$/).map((token) => `Bearer ${token}`),
  fc
    .array(fc.base64String({ maxLength: 40 }), { minLength: 3, maxLength: 3 })
    .map((parts) => `Bearer ${parts.join('.')}`),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Bearer  x.y.z',
    'bearer x.y.z',
    'BEARER a',
    'Basic dXNlcjpwYXNz',
    'Token abc',
    '',
    'Bearer a b',
    'Bearer é',
    `Bearer ${'a'.repeat(6000)}`,
    'Bearer eyJhbGciOiJub25lIn0.e30.',
    'Bearer ..',
    'Bearer =',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
);

/** The id of the user behind `caller`'s token, if it has one. */
function userIdOf(caller: Caller): string | undefined {
  if (caller === 'user') return world.user.id;
  if (caller === 'admin') return world.admin.id;
  if (caller === 'deleted account') return world.deletedUserId;
  return undefined;
}

/** The `Authorization` header `caller` sends: minted now for signed-in callers, else `drawn`. */
async function authorizationFor(caller: Caller, drawn: string | null): Promise<string | null> {
  // A fresh token per request: a fuzzed logout deny-lists only its own token.
  if (caller === 'user' || caller === 'admin') {
    const subject = caller === 'user' ? world.user : world.admin;
    return `Bearer ${(await issueAccessToken({ id: subject.id, role: caller })).token}`;
  }
  if (caller === 'deleted account') {
    return `Bearer ${(await issueAccessToken({ id: world.deletedUserId, role: 'user' })).token}`;
  }
  return drawn;
}

/** The `Authorization` a caller sends (`null`: none, or minted at send time), and what it is. */
function authorizationArbitrary(caller: Caller): fc.Arbitrary<[string | null, string]> {
  if (caller === 'garbage token') return garbageAuthorization.map((value) => [value, 'garbage']);
  if (caller === 'expired or tampered token') {
    return fc.constantFrom(...world.badTokens).map(([what, token]) => [`Bearer ${token}`, what]);
  }
  return fc.constant([null, caller]);
}

/** A position of the documented cursor shape, for a cursor the server did not make. */
function auditCursor(query: Record<string, string>, id: string): string {
  const filters = JSON.stringify([query.action ?? null, query.actor_id ?? null]);
  const f = createHash('sha256').update(filters).digest('base64url').slice(0, 16);
  return Buffer.from(JSON.stringify({ f, id })).toString('base64url');
}

/**
 * Timestamps at the edges of what the API accepts (years 0001–9999 once in UTC, offsets up to
 * ±15:59, microseconds, leap day, no offset meaning UTC, lower-case `t`/`z`).
 */
const EDGE_TIMESTAMPS = [
  '0001-01-01T00:00:00Z',
  '0001-01-01T15:59:00+15:59',
  '9999-12-31T23:59:59.999999Z',
  '9999-12-31T08:00:00-15:59',
  '2024-02-29T12:00:00.5+05:30',
  '1970-01-01T00:00:00.000000+00:00',
  '2024-01-01t10:00:00z',
  '2024-06-30T23:59:59',
];

/** Realistic values for a route, as `caller`: ids that exist, real tokens, real cursors. */
function hintsFor(name: RouteName | 'fallback', caller: Caller): Hints {
  const owner = caller === 'admin' ? 'admin' : 'user';
  const noteIds = [...world.notes[owner], ...world.notes.other];
  const noteId: Hints = { path: fc.constantFrom(...noteIds).map((id) => ({ id })) };
  const ifMatch = fc
    .constantFrom('"1"', '"2"', '"3"', '*', 'W/"1"')
    .map((value) => ({ 'if-match': value }));
  switch (name) {
    case 'getNote':
    case 'archiveNote':
    case 'restoreNote':
      return noteId;
    case 'replaceNote':
    case 'updateNote':
      return { ...noteId, headers: ifMatch };
    case 'register':
      return {
        body: fc
          .constantFrom(
            world.user.email,
            world.user.email.toUpperCase(),
            // 254 characters, the longest e-mail accepted (RFC 5321 §4.5.3.1.3).
            `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`,
          )
          .map((email) => ({ email, password: PASSWORD })),
      };
    case 'login':
      return {
        body: fc.constantFrom(
          { email: world.user.email, password: PASSWORD },
          { email: ` ${world.admin.email.toUpperCase()} `, password: PASSWORD },
          { email: world.user.email, password: 'wrong password' },
        ),
        form: fc.constantFrom({
          username: world.user.email,
          password: PASSWORD,
          grant_type: 'password',
        }),
      };
    case 'refresh':
    case 'logout':
      return {
        body: fc.constantFrom(...world.refreshTokens).map((token) => ({ refresh_token: token })),
      };
    case 'docsAsset':
      return { path: fc.constantFrom(...Object.keys(DOCS_ASSETS)).map((file) => ({ file })) };
    case 'inventoryQuery':
      return {
        query: fc.record(
          {
            productid: fc.constantFrom('FUZZ-1', 'FUZZ-2'),
            starttimestamp: fc.constantFrom('2024-01-01T00:00:00Z', ...EDGE_TIMESTAMPS),
            endtimestamp: fc.constantFrom('2024-01-02T00:00:00Z', ...EDGE_TIMESTAMPS),
          },
          { requiredKeys: ['productid'] },
        ),
      };
    case 'inventoryUpdate':
      return {
        body: fc
          .array(
            fc.record({
              productid: fc.constantFrom('FUZZ-1', 'FUZZ-3', `FUZZ${'z'.repeat(60)}`, '0.:_-FUZZ'),
              quantity: fc.constantFrom(0, 1, 2_147_483_647),
              timestamp: fc.constantFrom(...EDGE_TIMESTAMPS),
            }),
            { minLength: 1, maxLength: 3 },
          )
          .map((items) => ({ items })),
      };
    case 'listNotes':
      return {
        query: fc.oneof(
          fc.constantFrom(...world.noteCursors).map((cursor) => ({ cursor })),
          fc
            .record({
              sort: fc.constantFrom('created_at', 'updated_at', 'title'),
              order: fc.constantFrom('asc', 'desc'),
              archived: fc.constantFrom('false', 'true', 'all'),
              value: fc.oneof(
                fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
                fc.string({ maxLength: 30 }),
                fc.constantFrom(
                  '0000-01-01T00:00:00.000000Z',
                  '2024-02-30T00:00:00Z',
                  '9999-12-31T23:59:59.999999Z',
                ),
              ),
              id: fc.uuid(),
            })
            .map(({ value, id, ...filters }) => ({
              ...filters,
              q: '',
              cursor: encodeCursor(ListNotesQuery.parse(filters), { value, id }),
            })),
        ),
      };
    case 'auditLog':
      return {
        query: fc
          .record(
            {
              action: fc.constantFrom('note.archived', 'note.restored'),
              actor_id: fc.constantFrom(world.user.id, world.admin.id),
              id: fc.oneof(
                fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }).map(String),
                fc.constantFrom(
                  '1',
                  '9223372036854775807',
                  '9223372036854775808',
                  '9999999999999999999',
                ),
              ),
            },
            { requiredKeys: ['id'] },
          )
          .map(({ id, ...filters }) => ({ ...filters, cursor: auditCursor(filters, id) })),
      };
    default:
      return {};
  }
}

/** The callers a route exists for get `RUNS`; the others a quarter (they are refused early). */
function runsFor(route: RouteDefinition, caller: Caller): number {
  const own: Caller = route.auth === 'public' ? 'anonymous' : route.auth;
  return caller === own ? RUNS : Math.max(2, Math.ceil(RUNS / 4));
}

interface Failure {
  key: string;
  /** What was sent, numbers folded (`body: oversized string at items.#.productid`). */
  what: string;
  report: string;
}
const failures: Failure[] = [];

/** `text` as a JSON string, cut to `length` characters with its full length noted. */
function clip(text: string, length = 300): string {
  const shown = JSON.stringify(text);
  return shown.length > length ? `${shown.slice(0, length)}… (${text.length} chars)` : shown;
}

/** A failure, readable: what was sent by whom, every violation, the answer, how to replay. */
function describeFailure(
  name: string,
  caller: Caller,
  generated: Generated,
  response: WireResponse | undefined,
  violations: string[],
  reason: string,
): string {
  const { wire } = generated;
  const headers = Object.fromEntries(
    Object.entries(wire.headers).map(([k, v]) => [
      k,
      k === 'authorization' ? clip(String(v), 60) : v,
    ]),
  );
  return [
    `${name} as ${caller}: ${generated.label}`,
    ...violations.map((violation) => `  ✗ ${violation}`),
    `  request: ${wire.method} ${clip(wire.target)}${wire.chunked ? ' (chunked)' : ''}`,
    `  headers: ${clip(JSON.stringify(headers), 400)}`,
    ...(wire.body ? [`  body: ${clip(wire.body.toString('utf8'))}`] : []),
    `  expected: ${reason}`,
    response
      ? `  response: ${response.status} ${response.headers['content-type'] ?? ''} ${clip(response.text)}`
      : '  response: none',
    `  replay: ${REPLAY} -t ${JSON.stringify(name)}`,
  ].join('\n');
}

/**
 * A failure class: the route that answered, the status, the kind of violation (its text up
 * to the first colon, ids folded), and the token kind when the caller's token was a bad one.
 */
function failureClass(
  name: string,
  routeAuth: RouteDefinition['auth'],
  generated: Generated,
  status: number | undefined,
  violation: string,
): string {
  const token = /\[token: ([^\]]*)\]/.exec(generated.label)?.[1] ?? '';
  const kind = violation
    .split(':')[0]
    ?.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '<uuid>')
    .replace(/\d{4,}/g, '#');
  const bad =
    routeAuth !== 'public' && token && !['user', 'admin', 'anonymous', 'garbage'].includes(token);
  return `${name} → ${status ?? 'none'}: ${kind}${bad ? ` (token: ${token})` : ''}`;
}

/** Statuses seen per route, printed at the end (is the fuzz reaching the handlers?). */
const seen = new Map<string, Map<number, number>>();
function count(name: string, status: number) {
  const statuses = seen.get(name) ?? new Map<number, number>();
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  seen.set(name, statuses);
}

/** API.md: every GET answers HEAD with the same status and headers and no content. */
async function headLikeGet(wire: WireRequest, got: WireResponse): Promise<string[]> {
  const head = await client.send({ ...wire, method: 'HEAD' });
  const violations: string[] = [];
  if (head.status !== got.status)
    violations.push(`HEAD answered ${head.status}, GET ${got.status}`);
  if (head.text !== '') violations.push(`HEAD answered with content: ${head.text.slice(0, 80)}`);
  if (head.headers['content-type'] !== got.headers['content-type']) {
    violations.push(
      `HEAD Content-Type ${head.headers['content-type']}, GET ${got.headers['content-type']}`,
    );
  }
  return violations;
}

function prototypePolluted(): boolean {
  return (
    Object.keys(Object.prototype).length > 0 ||
    ({} as Record<string, unknown>).polluted !== undefined
  );
}

/** Sends one generated request as `caller` and checks the answer; throws unless `KEEP_GOING`. */
/**
 * Routes where, of the same request sent several times at once, at most one may succeed:
 * API.md (one 201 under concurrent sign-ups) and the README (one of two racing refreshes).
 */
const ONE_WINNER = new Set(['register', 'refresh']);

/** How a request is sent: once, once more as HEAD, or three copies at the same moment. */
type Delivery = 'once' | 'head' | 'burst';

/** The violations of one answer: contract, then what the route promises about it. */
function check(
  expectation: ReturnType<typeof expectOutcome>,
  wire: WireRequest,
  response: WireResponse,
  caller: Caller,
): string[] {
  const violations = contractViolations(expectation, wire, response);
  count(expectation.routeName, response.status);
  if (response.status < 300 && expectation.parsed) {
    const context = { userId: userIdOf(caller) };
    violations.push(
      ...semanticViolations(expectation.routeName, expectation.parsed, response, context),
    );
  }
  return violations;
}

/** Sends one generated request as `caller` and checks the answer; throws unless `KEEP_GOING`. */
async function probe(
  name: string,
  caller: Caller,
  kind: 'valid' | 'malformed',
  generated: Generated,
  drawn: string | null,
  delivery: Delivery,
) {
  const signed = async () => {
    const authorization = await authorizationFor(caller, drawn);
    return {
      ...generated.wire,
      headers: { ...generated.wire.headers, ...(authorization !== null ? { authorization } : {}) },
    };
  };
  const wire = await signed();
  const sent = {
    ...generated,
    wire,
    label: delivery === 'once' ? generated.label : `${generated.label}; ${delivery}`,
  };
  const outcome = expectOutcome(sent, caller, host);
  const expectation = {
    ...outcome,
    handler422Codes: HANDLER_422[outcome.routeName as RouteName],
  };
  let response: WireResponse | undefined;
  let violations: string[];
  try {
    if (delivery === 'burst') {
      const wires = [wire, await signed(), await signed()];
      const responses = await Promise.all(wires.map((copy) => client.send(copy)));
      response = responses[0];
      violations = responses.flatMap((answer, i) =>
        check(expectation, wires[i] as WireRequest, answer, caller),
      );
      const wins = responses.filter((answer) => answer.status < 300).length;
      if (ONE_WINNER.has(expectation.routeName) && wins > 1) {
        violations.push(`${wins} of 3 identical concurrent requests succeeded, at most 1 may`);
      }
    } else {
      response = await client.send(wire);
      violations = check(expectation, wire, response, caller);
      if (delivery === 'head' && wire.method === 'GET') {
        violations.push(...(await headLikeGet(wire, response)));
      }
    }
    if (VERBOSE && response) {
      const size = `${wire.body?.length ?? 0}→${response.text.length} B`;
      console.log(`fuzz ${name} ${caller} ${response.status} ${size} ${sent.label}`);
    }
  } catch (error) {
    violations = [`no response: ${(error as Error).message}`];
  }
  const refused = expectation.refusedBySchema;
  const own = expectation.routeName === name;
  if (kind === 'valid' && own && refused.length && !CROSS_FIELD_422[name as RouteName]) {
    violations.push(
      `a generated valid request is refused by the route's own schema (${refused.join(', ')}): ` +
        'a cross-field rule missing from CROSS_FIELD_422, or a generator bug',
    );
  }
  if (prototypePolluted()) violations.push('Object.prototype was polluted');
  if (!violations.length) return;
  const report = describeFailure(
    name,
    caller,
    sent,
    response,
    [...new Set(violations)],
    expectation.reason,
  );
  for (const violation of violations) {
    failures.push({
      key: failureClass(
        expectation.routeName,
        expectation.route.auth,
        sent,
        response?.status,
        violation,
      ),
      what: sent.label.replace(/ \[token: [^\]]*\]/, '').replace(/\d+/g, '#'),
      report,
    });
  }
  if (!KEEP_GOING) throw new Error(report);
}

/** Valid requests are sometimes sent again as HEAD, or as three concurrent copies. */
function delivery(kind: 'valid' | 'malformed'): fc.Arbitrary<Delivery> {
  if (kind === 'malformed') return fc.constant('once');
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant('once' as const) },
    { weight: 1, arbitrary: fc.constant('head' as const) },
    { weight: 1, arbitrary: fc.constant('burst' as const) },
  );
}

/**
 * One property: `numRuns` requests from `requests`, sent as `caller`, each checked. Seeded
 * from the suite's seed and (`name`, `caller`, `kind`), so a test replays on its own.
 * `valid` properties also send some requests again as HEAD, or three times at once.
 */
async function fuzz(
  name: string,
  caller: Caller,
  kind: 'valid' | 'malformed',
  requests: fc.Arbitrary<Generated>,
  numRuns: number,
) {
  const before = failures.length;
  const property = fc.asyncProperty(
    requests,
    authorizationArbitrary(caller),
    delivery(kind),
    (generated, [drawn, what], how) =>
      probe(
        name,
        caller,
        kind,
        { ...generated, label: `${generated.label} [token: ${what}]` },
        drawn,
        how,
      ),
  );
  await fc.assert(property, {
    seed: seedFor(name, caller, kind),
    numRuns,
    endOnFailure: true,
    // Our own report names the request; fast-check's would print whole bodies (up to 3 MB).
    reporter: (details) => {
      if (!details.failed) return;
      const cause =
        details.errorInstance instanceof Error
          ? details.errorInstance.message
          : String(details.errorInstance);
      throw new Error(
        `${cause}\n  fast-check: run ${details.numRuns} of ${numRuns}, seed ${details.seed}, path ${details.counterexamplePath}`,
      );
    },
  });
  const mine = failures.slice(before);
  expect(mine.map((failure) => failure.report).slice(0, 5), `${mine.length} failures`).toEqual([]);
}

/** A test's time limit: generous, as one request may carry or return megabytes. */
const timeout = (runs: number) => 30_000 + runs * 1_500;

beforeAll(async () => {
  client = createWireClient(api.url);
  host = new URL(api.url).host;
  const [user, admin, other] = await Promise.all([
    createUser(api),
    createUser(api, 'admin'),
    createUser(api),
  ]);
  const notes = async (owner: TestUser, count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const created = await api.post('/api/v1/notes', {
        token: owner.token,
        body: { title: `fuzz ${i}`, content: 'x' },
      });
      ids.push(created.body.id);
    }
    return ids;
  };
  const [userNotes, adminNotes, otherNotes] = await Promise.all([
    notes(user, 4),
    notes(admin, 2),
    notes(other, 1),
  ]);
  await api.delete(`/api/v1/notes/${userNotes[0]}`, { token: user.token });
  await api.post('/api/v1/inventory/update', {
    token: admin.token,
    body: {
      items: [
        { productid: 'FUZZ-1', quantity: 1, timestamp: '2024-01-01T10:00:00Z' },
        { productid: 'FUZZ-1', quantity: 2, timestamp: '2024-01-01T11:00:00.123456+01:00' },
        { productid: 'FUZZ-2', quantity: 3, timestamp: '2024-01-01T12:00:00' },
      ],
    },
  });
  const refreshTokens: string[] = [];
  for (let i = 0; i < 4; i++) {
    const login = await api.post('/api/v1/auth/login', {
      body: { email: user.email, password: PASSWORD },
    });
    refreshTokens.push(login.body.refresh_token);
  }
  const noteCursors: string[] = [];
  const pages: Record<string, string | number>[] = [
    { limit: 1 },
    { limit: 1, sort: 'title', order: 'asc' },
    { limit: 1, archived: 'all' },
  ];
  for (const query of pages) {
    const page = await api.get('/api/v1/notes', { token: user.token, query });
    if (page.body.next_cursor) noteCursors.push(page.body.next_cursor);
  }
  world = {
    user,
    admin,
    other,
    notes: { user: userNotes, admin: adminNotes, other: otherNotes },
    refreshTokens,
    badTokens: await badTokens(user),
    noteCursors: noteCursors.length ? noteCursors : ['none'],
    deletedUserId: crypto.randomUUID(),
  };
});

afterAll(() => {
  client?.close();
  const table = [...seen.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, statuses]) => {
      const counts = [...statuses.entries()].sort(([a], [b]) => a - b);
      return `  ${name}: ${counts.map(([status, n]) => `${status}×${n}`).join(' ')}`;
    });
  if (VERBOSE || KEEP_GOING || process.env.FUZZ_RUNS) {
    console.log(`fuzz: statuses per route (seed ${SEED})\n${table.join('\n')}`);
  }
  if (!failures.length) return;
  const classes = new Map<string, { count: number; what: Set<string>; report: string }>();
  for (const failure of failures) {
    const known = classes.get(failure.key) ?? { count: 0, what: new Set(), report: failure.report };
    known.count++;
    known.what.add(failure.what);
    classes.set(failure.key, known);
  }
  const lines = [...classes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, { count, what, report }]) => {
      const sent = [...what].slice(0, 6).join(' · ');
      return `● ${key} (×${count}; sent: ${sent}${what.size > 6 ? ' · …' : ''})\n${report}`;
    });
  console.log(`fuzz: ${classes.size} failure classes (seed ${SEED})\n\n${lines.join('\n\n')}`);
});

describe('fuzz: the route table and its documentation agree', () => {
  it('/openapi.json documents every status each visible route declares', async () => {
    const document = (await api.get('/openapi.json')).body;
    for (const route of routeList.filter((r) => !r.hidden)) {
      const documented = Object.keys(
        document.paths[route.path]?.[route.method.toLowerCase()]?.responses ?? {},
      ).map(Number);
      const byNumber = (a: number, b: number) => a - b;
      expect(documented.sort(byNumber), `${route.method} ${route.path}`).toEqual(
        [...declaredStatuses(route)].sort(byNumber),
      );
    }
  });
});

for (const route of [...routeList, fallbackRoute]) {
  const name = routeName(route);
  describe(`fuzz ${name}: ${route.method} ${route.path} (${route.auth})`, () => {
    for (const caller of CALLERS) {
      const runs = runsFor(route, caller);
      for (const kind of ['valid', 'malformed'] as const) {
        it(
          `${kind} requests as ${caller}`,
          async () => {
            const hints = hintsFor(name as RouteName, caller);
            const requests =
              route === fallbackRoute
                ? fallbackRequest(routeList, kind === 'malformed')
                : kind === 'valid'
                  ? validRequest(route, hints)
                  : malformedRequest(route, hints);
            await fuzz(name, caller, kind, requests, runs);
          },
          timeout(runs),
        );
      }
    }
  });
}
