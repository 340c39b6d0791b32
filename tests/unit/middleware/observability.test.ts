/**
 * The HTTP stack's metrics and traces, end to end through real `createHandler` routes (real
 * PostgreSQL and Redis): the EMF lines Powertools Metrics writes to stdout, and the X-Ray
 * documents the X-Ray SDK sends over UDP to a daemon this file plays (AWS_XRAY_DAEMON_ADDRESS).
 * The Lambda-like environment stays in this file's own worker process (vitest isolates each
 * file in a fresh fork); it is set before the first handler loads, as the runtime does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../../shared/routes/index.js';
import { useApi } from '../../helpers/api.js';
import { freshIp, invokeRoute } from '../../helpers/invoke.js';
import { uniqueEmail } from '../../helpers/users.js';

// Read when the metrics are created (on the first handler load), so set first.
Object.assign(process.env, {
  POWERTOOLS_METRICS_DISABLED: 'false',
  POWERTOOLS_METRICS_NAMESPACE: 'notes-api/test',
  POWERTOOLS_SERVICE_NAME: 'notes-api',
  // What the Lambda runtime sets (AWS docs, "Defined runtime environment variables"): the
  // X-Ray SDK runs in Lambda mode on LAMBDA_TASK_ROOT, the Tracer needs AWS_EXECUTION_ENV,
  // and the cold-start logic counts on-demand instances only.
  LAMBDA_TASK_ROOT: '/var/task',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'notes-api-test',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  _HANDLER: 'index.handler',
  POWERTOOLS_TRACE_ENABLED: 'true',
});

/**
 * Every EMF document this file's run wrote to stdout (Powertools Metrics writes one line per
 * `console.log`), parsed, in order; kept out of the test output.
 */
const emf: Record<string, unknown>[] = [];
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = String(chunk);
  if (!text.startsWith('{"_aws"'))
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  emf.push(JSON.parse(text) as Record<string, unknown>);
  const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
  done?.();
  return true;
}) as typeof process.stdout.write;

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit: string }[];
}
const directiveOf = (line: Record<string, unknown>) =>
  (line._aws as { CloudWatchMetrics: EmfDirective[] }).CloudWatchMetrics[0] as EmfDirective;
const hasMetric = (line: Record<string, unknown>, name: string) =>
  directiveOf(line).Metrics.some((metric) => metric.Name === name);

/** The EMF lines written while `work` ran. */
async function emfOf(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const start = emf.length;
  await work();
  return emf.slice(start);
}

/** X-Ray documents received by the fake daemon (each datagram: a JSON header line, then one). */
const documents: Record<string, unknown>[] = [];
const daemon = createSocket('udp4');
daemon.on('message', (message) => {
  const [, body] = message.toString('utf8').split('\n');
  if (body) documents.push(JSON.parse(body) as Record<string, unknown>);
});

/** A trace header as Lambda sets it in `_X_AMZN_TRACE_ID` (AWS X-Ray docs, "Tracing header"). */
function traceHeader(sampled: boolean): { root: string; parent: string; header: string } {
  const root = `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const parent = randomBytes(8).toString('hex');
  return { root, parent, header: `Root=${root};Parent=${parent};Sampled=${sampled ? 1 : 0}` };
}

/** The documents of trace `root`, once `done` holds for them; fails after a deadline. */
async function documentsOf(
  root: string,
  done: (docs: Record<string, unknown>[]) => boolean,
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const docs = documents.filter((doc) => doc.trace_id === root);
    if (done(docs)) return docs;
    if (Date.now() > deadline) {
      throw new Error(`trace ${root}: got ${JSON.stringify(docs.map((d) => d.name))}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const api = useApi();
let token = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  // Read by the X-Ray SDK when it loads: on the first sampled invocation, after this.
  process.env.AWS_XRAY_DAEMON_ADDRESS = `127.0.0.1:${(daemon.address() as AddressInfo).port}`;
  // Unsampled until a test says otherwise (Lambda always sets a header).
  process.env._X_AMZN_TRACE_ID = traceHeader(false).header;
  const email = uniqueEmail('observability');
  const password = 'correct horse battery';
  const sourceIp = freshIp();
  expect((await invokeRoute(routes.register, { sourceIp, body: { email, password } })).status).toBe(
    201,
  );
  const login = await invokeRoute(routes.login, { sourceIp, body: { email, password } });
  token = login.body.access_token;
});

afterAll(() => {
  process.stdout.write = write;
  daemon.close();
});

describe('metrics (Powertools EMF)', () => {
  it('every request writes one EMF line: Latency in ms with the route dimension, and 0/1 error counts', async () => {
    const lines = await emfOf(() =>
      invokeRoute(routes.createNote, { sourceIp: freshIp(), token, body: { title: 'metrics' } }),
    );
    const request = lines.filter((line) => hasMetric(line, 'Latency'));
    expect(request).toHaveLength(1);
    const [line] = request as [Record<string, unknown>];
    const directive = directiveOf(line);
    expect(directive.Namespace).toBe('notes-api/test');
    expect(directive.Dimensions).toEqual([['service', 'route']]);
    expect(directive.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'Latency', Unit: 'Milliseconds' },
        { Name: 'ClientErrors', Unit: 'Count' },
        { Name: 'ServerErrors', Unit: 'Count' },
      ]),
    );
    expect(line).toMatchObject({
      service: 'notes-api',
      route: 'POST /api/v1/notes',
      ClientErrors: 0,
      ServerErrors: 0,
    });
    expect(line.Latency).toBeGreaterThan(0);
  });

  it('a 404 counts one ClientErrors under its route', async () => {
    const lines = await emfOf(async () => {
      const response = await api.get(`/api/v1/notes/${randomUUID()}`, { token });
      expect(response.status).toBe(404);
    });
    expect(lines.filter((line) => hasMetric(line, 'Latency'))).toEqual([
      expect.objectContaining({
        route: 'GET /api/v1/notes/{id}',
        ClientErrors: 1,
        ServerErrors: 0,
      }),
    ]);
  });

  it('ColdStart is written once per instance, on its first invocation, by function', async () => {
    await invokeRoute(routes.listNotes, { sourceIp: freshIp(), token });
    await invokeRoute(routes.listNotes, { sourceIp: freshIp(), token });
    // Every EMF line of this file so far: whichever test ran first started the instance.
    const coldStarts = emf.filter((line) => hasMetric(line, 'ColdStart'));
    expect(coldStarts).toHaveLength(1);
    expect(directiveOf(coldStarts[0] as Record<string, unknown>).Dimensions).toEqual([
      ['service', 'function_name'],
    ]);
    // The registration in `beforeAll` is this instance's first invocation.
    expect(coldStarts[0]).toMatchObject({ ColdStart: 1, function_name: 'auth-register' });
  });

  it('the notes list counts a cache miss, then a hit', async () => {
    await invokeRoute(routes.createNote, { sourceIp: freshIp(), token, body: { title: 'c' } });
    const list = () => invokeRoute(routes.listNotes, { sourceIp: freshIp(), token });
    const first = await emfOf(list);
    const second = await emfOf(list);
    expect(first).toEqual([
      expect.objectContaining({ route: 'GET /api/v1/notes', CacheMisses: 1 }),
    ]);
    expect(first[0]).not.toHaveProperty('CacheHits');
    expect(second).toEqual([expect.objectContaining({ route: 'GET /api/v1/notes', CacheHits: 1 })]);
    expect(second[0]).not.toHaveProperty('CacheMisses');
  });
});

describe('tracing (Powertools Tracer, X-Ray)', () => {
  it('a sampled GET note sends the handler subsegment with PostgreSQL and Redis subsegments under it', async () => {
    const created = await invokeRoute(routes.createNote, {
      sourceIp: freshIp(),
      token,
      body: { title: 'traced' },
    });
    const trace = traceHeader(true);
    process.env._X_AMZN_TRACE_ID = trace.header;
    try {
      expect((await api.get(`/api/v1/notes/${created.body.id}`, { token })).status).toBe(200);
    } finally {
      process.env._X_AMZN_TRACE_ID = traceHeader(false).header;
    }
    const docs = await documentsOf(trace.root, (found) =>
      ['## index.handler', 'PostgreSQL', 'Redis'].every((name) =>
        found.some((doc) => doc.name === name),
      ),
    );
    const handler = docs.find((doc) => doc.name === '## index.handler') as Record<string, unknown>;
    expect(handler).toMatchObject({ type: 'subsegment', parent_id: trace.parent });
    expect(handler.annotations).toMatchObject({ Service: 'notes-api' });
    expect(handler).not.toHaveProperty('fault');
    const postgres = docs.filter((doc) => doc.name === 'PostgreSQL');
    const redis = docs.filter((doc) => doc.name === 'Redis');
    for (const doc of [...postgres, ...redis]) {
      expect(doc).toMatchObject({ type: 'subsegment', namespace: 'remote', parent_id: handler.id });
      expect(doc.end_time as number).toBeGreaterThanOrEqual(doc.start_time as number);
    }
    expect(
      postgres.map((doc) => (doc.sql as { sanitized_query?: string }).sanitized_query),
    ).toEqual(expect.arrayContaining([expect.stringContaining('FROM notes')]));
    // Parameters never reach the trace: only the query text with placeholders.
    expect(JSON.stringify(postgres)).not.toContain(created.body.id);
    // The response body (user data) is not recorded either.
    expect(JSON.stringify(handler)).not.toContain('traced');
  });

  it('a sampled write traces its transaction as one PostgreSQL subsegment with its queries under it', async () => {
    const created = await invokeRoute(routes.createNote, {
      sourceIp: freshIp(),
      token,
      body: { title: 'archived in a transaction' },
    });
    const trace = traceHeader(true);
    process.env._X_AMZN_TRACE_ID = trace.header;
    try {
      // Archiving updates the note and adds its outbox row in one transaction.
      expect((await api.delete(`/api/v1/notes/${created.body.id}`, { token })).status).toBe(204);
    } finally {
      process.env._X_AMZN_TRACE_ID = traceHeader(false).header;
    }
    const isTransaction = (doc: Record<string, unknown>) =>
      (doc.sql as { sanitized_query?: string } | undefined)?.sanitized_query === 'BEGIN';
    const docs = await documentsOf(trace.root, (found) => {
      const transaction = found.find(isTransaction);
      return Boolean(transaction && found.some((doc) => doc.parent_id === transaction.id));
    });
    const transaction = docs.find(isTransaction) as Record<string, unknown>;
    expect(transaction.name).toBe('PostgreSQL');
    const inside = docs.filter((doc) => doc.parent_id === transaction.id);
    expect(inside.every((doc) => doc.name === 'PostgreSQL')).toBe(true);
    expect(
      inside.some((doc) =>
        /UPDATE notes/i.test((doc.sql as { sanitized_query: string }).sanitized_query),
      ),
    ).toBe(true);
  });

  it('a 404 closes the handler subsegment as a response, not a fault', async () => {
    const trace = traceHeader(true);
    process.env._X_AMZN_TRACE_ID = trace.header;
    try {
      expect((await api.get(`/api/v1/notes/${randomUUID()}`, { token })).status).toBe(404);
    } finally {
      process.env._X_AMZN_TRACE_ID = traceHeader(false).header;
    }
    const [handler] = await documentsOf(trace.root, (found) =>
      found.some((doc) => doc.name === '## index.handler'),
    ).then((docs) => docs.filter((doc) => doc.name === '## index.handler'));
    expect(handler).not.toHaveProperty('fault');
    expect(handler).not.toHaveProperty('cause');
  });
});
