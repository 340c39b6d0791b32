import { readFileSync } from 'node:fs';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { DOCS_ASSETS } from '../shared/docs/pages.js';
import type { FileAccess } from '../shared/files/prefixes.js';
import { stackDefines } from '../shared/http/needs.js';
import type { RouteDefinition } from '../shared/http/route.js';
import { outboxRelay, type QueueName, queueList, retention } from '../shared/queue/queues.js';
import { fallbackRoute, routeList, routes } from '../shared/routes/index.js';

/** Deploy-time functions: the migration trigger and the signing keys' rotation. */
export const deployFunctions = {
  migrate: 'deploy/migrate',
  rotateSigningKeys: 'deploy/rotate-signing-keys',
} as const;

/** Scheduled functions (EventBridge rules): the outbox relay and the retention purge. */
export const scheduledFunctions = [outboxRelay, retention] as const;

/** Every function file the stack deploys: routes, fallback, workers, scheduled, deploy-time. */
export function functionFiles(): string[] {
  return [
    ...new Set([
      ...routeList.map((r) => r.function),
      fallbackRoute.function,
      ...queueList.map((q) => q.worker),
      ...scheduledFunctions.map((s) => s.function),
      ...Object.values(deployFunctions),
    ]),
  ];
}

/**
 * What a runtime function uses, hence all CDK grants it (its IAM policy, environment and
 * VPC placement; DESIGN.md § One route table): nothing else.
 */
export interface FunctionNeeds {
  /** PostgreSQL as the application role: `rds-db:connect`, `DATABASE_URL`, the VPC. */
  database: boolean;
  /** The Redis cache: its secret, and the VPC when the cache lives inside it. */
  redis: boolean;
  /** Signs access tokens: may read the PRIVATE signing keys. */
  signingKeys: boolean;
  /** Reads the PUBLIC keys: verifies access tokens or serves the JWKS. */
  publicKeys: boolean;
  /** Pins or sets `iss` and `aud` (signs or verifies tokens). */
  tokenClaims: boolean;
  /** Queues it sends to. */
  publishes: QueueName[];
  /**
   * What it does with the files bucket, per prefix: `FILES_BUCKET` and exactly these object
   * actions on exactly these prefixes (`FileStorage.grant`); none when empty.
   */
  files: FileAccess[];
}

/**
 * A route's needs, from its route-table entry: its `database` flag; Redis for its rate limit
 * (every route but the health probes), for the deny list every signed-in route checks, and
 * for the readiness probe; the private keys only with `signsTokens`; the public keys on
 * signed-in routes and the JWKS route; the queues it `publishes` to; its `files`.
 */
export function routeNeeds(route: RouteDefinition): FunctionNeeds {
  const verifies = route.auth !== 'public';
  const signs = route.signsTokens === true;
  return {
    database: route.database,
    redis: route.rateLimit !== null || verifies || route.function === routes.healthCheck.function,
    signingKeys: signs,
    publicKeys: verifies || route.function === routes.jwks.function,
    tokenClaims: verifies || signs,
    publishes: [...(route.publishes ?? [])],
    files: [...(route.files ?? [])],
  };
}

/** Needs of a function that only uses the database (workers, the retention purge). */
export const databaseOnly: FunctionNeeds = {
  database: true,
  redis: false,
  signingKeys: false,
  publicKeys: false,
  tokenClaims: false,
  publishes: [],
  files: [],
};

/**
 * Handlers that load `@node-rs/argon2` (through the users service): a native package that
 * esbuild cannot bundle, so it is installed into the bundle for linux-arm64 instead.
 */
const usesArgon2 = (file: string) => file.startsWith('auth/') || file.startsWith('users/');

/**
 * Modules left out of every bundle, each for a documented reason:
 * - `@aws-sdk/client-*`: the Lambda Node.js runtimes (18 and later, so `nodejs22.x`) include
 *   the AWS SDK for JavaScript v3 (AWS Lambda docs, "Lambda runtimes"; CDK's `NodejsFunction`
 *   leaves `@aws-sdk/*` out by default for them). The request-path and worker code imports
 *   the clients only with a dynamic `import()`, which esbuild keeps lazy for an external, so
 *   such a function loads a client only when it first uses it, never at init (the
 *   deploy-time key rotation, which always uses Secrets Manager, imports it statically). (A static import of an external, even
 *   inside a lazily evaluated module, becomes a `require` at the top of the bundle and loads at init.)
 * - `@aws-lambda-powertools/tracer`: the Tracer (with its `aws-xray-sdk-core`, ~136 KiB
 *   minified) comes from the Powertools Lambda layer of exactly the installed version, which
 *   the stack resolves through the SSM parameter Powertools publishes for it (Powertools docs,
 *   "Lambda layers": mark the packages taken from the layer external). It is imported only
 *   when a request is sampled, so it costs neither bundle size nor init time. Logger, Metrics
 *   and Batch are bundled instead: loaded from the layer's `node_modules` at init they cost
 *   notes/get 12 ms of its cold module load (52.9 → 40.7 ms measured with them bundled, for
 *   +35 KiB), except in `POWERTOOLS_FROM_LAYER`.
 * - `pg-native`: the optional native binding of `pg`, never installed nor used.
 * Everything else is bundled, including `@smithy/*` and the SDK's helper packages
 * (`@smithy/signature-v4`, `@smithy/protocol-http`, `@smithy/hash-node`): the runtime has
 * them only as dependencies of its clients, at versions it picks, and does not document
 * them, so a runtime update could change or drop them under us.
 */
export const BUNDLE_EXTERNALS = [
  '@aws-sdk/client-*',
  '@aws-lambda-powertools/tracer',
  '@aws-lambda-powertools/tracer/*',
  'pg-native',
];

/**
 * Functions that take all of Powertools from the layer: `docs/openapi` holds every route's
 * schemas and classic zod (for `zod-openapi`), and 35 KiB of bundled Powertools would put it
 * over the 300 KiB budget; it serves a document clients cache, so its cold start matters least.
 */
const POWERTOOLS_FROM_LAYER = new Set(['docs/openapi']);

/** The externals of `file`'s bundle: `BUNDLE_EXTERNALS`, or all of Powertools too (`POWERTOOLS_FROM_LAYER`). */
export function externalsFor(file: string): string[] {
  return POWERTOOLS_FROM_LAYER.has(file)
    ? [...BUNDLE_EXTERNALS, '@aws-lambda-powertools/*']
    : BUNDLE_EXTERNALS;
}

/**
 * The installed Powertools version (all its packages share it), which names the layer:
 * `/aws/service/powertools/typescript/generic/all/<version>` in SSM holds that layer's ARN.
 */
export function powertoolsVersion(): string {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const manifest = readFileSync(
    join(root, 'node_modules/@aws-lambda-powertools/commons/package.json'),
    'utf8',
  );
  return (JSON.parse(manifest) as { version: string }).version;
}

/** The routes whose function is `file` (one, or several that share a function), if HTTP. */
function routesOfFile(file: string): RouteDefinition[] {
  if (file === fallbackRoute.function) return [fallbackRoute];
  return routeList.filter((route) => route.function === file);
}

/**
 * esbuild `define`s of one function: for an HTTP function, which middlewares its route
 * needs (`stackDefines`), so the bundle holds only those modules; none for the others. A
 * function that serves several routes gets a need when any of them has it.
 */
export function definesFor(file: string): Record<string, string> {
  const defines: Record<string, string> = {};
  for (const route of routesOfFile(file)) {
    for (const [name, value] of Object.entries(stackDefines(route))) {
      defines[name] = defines[name] === 'true' ? 'true' : value;
    }
  }
  return { ...BUNDLE_DEFINES, ...defines };
}
/**
 * esbuild's `mainFields`: the ES module build (`module`) before the CommonJS one (`main`).
 * The AWS SDK's and Smithy's packages ship both without an `exports` map, and esbuild's
 * default on platform `node` (`main` first) takes their CommonJS build, whose `require()`s
 * keep every export of `@smithy/core`'s submodules (esbuild tree-shakes ES imports only):
 * the RDS token signer (`@smithy/signature-v4`) bundles to 161 KiB that way, 20 KiB from its
 * ES build. Packages with an `exports` map (zod, postgres, jose, Powertools, middy) resolve
 * through its conditions and are not affected. CDK's doc for the option suggests this order.
 */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];
/**
 * The bundles are CommonJS, not ES modules, for cold starts: on Node 22 an ES `import` of
 * `node:http` (which `@middy/util` makes for `STATUS_CODES`, and the Redis transport for its
 * agent) builds the module's ES facade from every export, and one of them is a lazy getter
 * that loads the bundled undici (fetch), http2 and zlib: 25.8 ms here, against 2.9 ms for a
 * `require('node:http')` (a fresh `node` each; `npm run bench` prints the per-function cold
 * loads). The Lambda runtime loads a CommonJS handler with `require` (the runtime interface
 * client's own `node:http` is a `require` too). esbuild keeps an external's dynamic
 * `import()` lazy in a CommonJS bundle as well.
 */
export const BUNDLE_FORMAT = 'cjs';
/**
 * `import.meta.url` for the code that reads files beside its bundle (the migrations, the
 * docs assets): esbuild leaves `import.meta` empty in a CommonJS bundle, so the bundles
 * define it as this file URL of the bundle (`BUNDLE_DEFINES`).
 */
export const BUNDLE_BANNER =
  'const __import_meta_url=require("node:url").pathToFileURL(__filename).href;';
/** esbuild `define`s of every bundle (see `BUNDLE_BANNER`). */
const BUNDLE_DEFINES = { 'import.meta.url': '__import_meta_url' };

/** Files copied beside a function's bundle, as [from (repository), to (bundle)]. */
export function bundleCopies(file: string): [string, string][] {
  if (file === 'docs/asset') {
    return Object.entries(DOCS_ASSETS).map(([name, asset]) => [
      `node_modules/${asset.module}`,
      `assets/${name}`,
    ]);
  }
  if (file === deployFunctions.migrate) return [['migrations', 'migrations']];
  return [];
}

/**
 * esbuild options of one function: CommonJS (`BUNDLE_FORMAT`), minified, source maps, only what it imports, ES
 * module builds first (`BUNDLE_MAIN_FIELDS`). The AWS SDK clients come from the Lambda
 * runtime (`BUNDLE_EXTERNALS`); the password hasher is a native package installed for
 * linux-arm64; the docs assets and the migrations are copied beside the bundle.
 */
export function bundlingFor(file: string): BundlingOptions {
  const copies = bundleCopies(file);
  return {
    format: OutputFormat.CJS,
    target: 'node22',
    minify: true,
    sourceMap: true,
    banner: BUNDLE_BANNER,
    mainFields: BUNDLE_MAIN_FIELDS,
    externalModules: externalsFor(file),
    define: definesFor(file),
    ...(usesArgon2(file)
      ? {
          nodeModules: ['@node-rs/argon2'],
          // Install the linux-arm64 binary of the native package, whatever the build host.
          environment: {
            npm_config_os: 'linux',
            npm_config_cpu: 'arm64',
            npm_config_libc: 'glibc',
          },
        }
      : {}),
    ...(copies.length
      ? {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) =>
              copies.map(
                ([from, to]) =>
                  `mkdir -p "$(dirname ${outputDir}/${to})" && cp -R ${inputDir}/${from} ${outputDir}/${to}`,
              ),
          },
        }
      : {}),
  };
}

/**
 * esbuild's build options for CDK's `bundlingFor` settings (CommonJS, node22, minified, same
 * main fields, externals and banner, no source map), for bundling `entryPoints` into
 * `outfile` here. `@node-rs/argon2` stays external (CDK installs it for linux-arm64).
 */
export function esbuildOptionsLikeCdk(
  entryPoint: string,
  outfile: string,
  define: Record<string, string> = {},
  externals: string[] = BUNDLE_EXTERNALS,
): BuildOptions {
  return {
    define,
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    format: BUNDLE_FORMAT,
    target: 'node22',
    minify: true,
    mainFields: BUNDLE_MAIN_FIELDS,
    outfile,
    external: [...externals, '@node-rs/argon2'],
    banner: { js: BUNDLE_BANNER },
    logLevel: 'silent',
  };
}

/**
 * Bundles `functions/<file>.ts` into `outdir/index.js` with the esbuild options the stack
 * gives CDK (`esbuildOptionsLikeCdk`) and copies its extra files, so tests and the bench run
 * what Lambda would. A `package.json` saying `"type": "commonjs"` goes beside it, as this
 * repository's own says `module` (a Lambda asset has none, so there `.js` is CommonJS).
 * Returns the bundle's path.
 */
export async function bundleLikeCdk(file: string, outdir: string): Promise<string> {
  const { build } = await import('esbuild');
  const root = fileURLToPath(new URL('../', import.meta.url));
  const outfile = join(outdir, 'index.js');
  await build(
    esbuildOptionsLikeCdk(
      join(root, 'functions', `${file}.ts`),
      outfile,
      definesFor(file),
      externalsFor(file),
    ),
  );
  await writeFile(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
  for (const [from, to] of bundleCopies(file)) {
    await cp(join(root, from), join(outdir, to), { recursive: true });
  }
  return outfile;
}
