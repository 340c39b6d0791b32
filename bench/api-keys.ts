import { toApiGatewayEvent } from '../infra/local/gateway.js';
import { lambdaContext, loadHandler } from '../infra/local/lambda.js';
import { insertKey } from '../shared/api-keys/repository.js';
import { generateKey } from '../shared/api-keys/secrets.js';
import { getConfig } from '../shared/config.js';
import { getSql } from '../shared/db/client.js';
import { routes } from '../shared/routes/index.js';
import { benchSourceIp, createCallers } from './callers.js';
import { ms, summarize, time, type Verdict } from './stats.js';

/** The four ways a presented key is refused (API.md § API keys: 401, one body, alike). */
const PATHS = ['unknown key', 'wrong secret', 'expired key', 'revoked key'] as const;
type RefusalPath = (typeof PATHS)[number];

/** The budget of the slowest refusal's median ÷ the fastest's. */
const BUDGET = 1.5;

/**
 * API-key refusals (API.md § API keys: an expired, revoked or unknown key → 401, nothing told
 * apart): `GET /api/v1/notes` through its real handler with a well-formed key whose prefix is
 * not in the database, a wrong secret for an existing prefix, an expired key and a revoked
 * key, interleaved (one of each per round, the order rotating), `iterations` each after 50
 * untimed rounds. Each request comes from a source IP of its own (`benchSourceIp`), so the
 * per-IP budget of refused credentials (60/min) never answers 429 instead. Throws unless
 * every answer is 401 with the same `WWW-Authenticate` and body (but its `request_id`).
 * Returns one verdict: slowest ÷ fastest median ≤ 1.5×. Expects the functions' environment
 * (see run.ts).
 */
export async function benchApiKeys(iterations: number): Promise<Verdict[]> {
  const sql = getSql();
  const [owner] = await createCallers(sql, 1);
  if (!owner) throw new Error('no bench caller');
  const stage = getConfig().STAGE;
  const insert = async (expiresAt: string | null) => {
    const secret = generateKey(stage);
    const row = await insertKey(sql, {
      userId: owner.id,
      name: 'bench',
      prefix: secret.prefix,
      hash: secret.hash,
      scopes: ['notes:read'],
      expiresAt,
    });
    return { key: secret.key, id: row.id };
  };
  const live = await insert(null);
  const expired = await insert(null);
  const revoked = await insert(null);
  await sql`UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE id = ${expired.id}`;
  await sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${revoked.id}`;
  const lastChar = live.key.at(-1) === 'A' ? 'B' : 'A';
  const keys: Record<RefusalPath, string> = {
    // Well-formed: the stage and 53 base62 characters, a prefix no key has.
    'unknown key': generateKey(stage).key,
    'wrong secret': `${live.key.slice(0, -1)}${lastChar}`,
    'expired key': expired.key,
    'revoked key': revoked.key,
  };

  const route = routes.listNotes;
  const handler = await loadHandler(route.function);
  const context = lambdaContext(route.function);
  const invoke = (key: string) =>
    handler(
      toApiGatewayEvent(
        {
          method: route.method,
          url: '/api/v1/notes',
          headers: { 'x-api-key': key, host: 'bench.local' },
          sourceIp: benchSourceIp(),
        },
        Buffer.alloc(0),
        `${route.method} ${route.path}`,
        undefined,
      ),
      context,
    );
  // The control: the key the wrong secret is made from works, so only its secret is wrong.
  const control = await invoke(live.key);
  if (control.statusCode !== 200) {
    throw new Error(`the live bench key answered ${control.statusCode} ${control.body}`);
  }
  let expected: string | undefined;
  const refuse = (path: RefusalPath) => async () => {
    const result = await invoke(keys[path]);
    const { request_id: _id, ...problem } = JSON.parse(result.body ?? '{}') as Record<
      string,
      unknown
    >;
    const seen = JSON.stringify([
      result.statusCode,
      result.headers?.['WWW-Authenticate'] ?? result.headers?.['www-authenticate'],
      problem,
    ]);
    expected ??= seen;
    if (result.statusCode !== 401 || seen !== expected) {
      throw new Error(`API-key refusal (${path}) answered ${seen}, expected ${expected}`);
    }
  };
  const calls = PATHS.map(refuse);

  console.log(
    `\n## API-key refusals on GET /api/v1/notes: unknown, wrong secret, expired, revoked (${iterations} each, interleaved; a source IP per request)\n`,
  );
  const samples: number[][] = PATHS.map(() => []);
  const ROUNDS_WARMUP = 50;
  for (let round = 0; round < ROUNDS_WARMUP + iterations; round++) {
    for (let k = 0; k < PATHS.length; k++) {
      const p = (round + k) % PATHS.length;
      const taken = await time(calls[p] as () => Promise<void>, 1, 0);
      if (round >= ROUNDS_WARMUP) samples[p]?.push(...taken);
    }
  }
  const medians = PATHS.map((path, p) => {
    const s = summarize(samples[p] as number[]);
    console.log(`  ${path.padEnd(44)} median ${ms(s.median)}  p99 ${ms(s.p99)}  (n=${s.n})`);
    return s.median;
  });
  console.log(`  every refusal answered ${expected}`);
  const ratio = Math.max(...medians) / Math.min(...medians);
  const name = 'API-key refusals: slowest ÷ fastest';
  const pass = ratio <= BUDGET;
  console.log(`→ ${name}: ${ratio.toFixed(2)}× (budget ≤ ${BUDGET}×) ${pass ? 'PASS' : 'FAIL'}`);
  return [{ name, ratio, budget: `≤ ${BUDGET}×`, pass }];
}
