import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { DOCS_ASSETS } from '../shared/docs/pages.js';
import type { RouteDefinition } from '../shared/http/route.js';
import { outboxRelay, type QueueName, queueList, retention } from '../shared/queue/queues.js';
import { fallbackRoute, routeList, routes } from '../shared/routes.js';

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
}

/**
 * A route's needs, from its route-table entry: its `database` flag; Redis for its rate limit
 * (every route but the health probes), for the deny list every signed-in route checks, and
 * for the readiness probe; the private keys only with `signsTokens`; the public keys on
 * signed-in routes and the JWKS route; the queues it `publishes` to.
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
};

/**
 * Handlers that load `@node-rs/argon2` (through the users service): a native package that
 * esbuild cannot bundle, so it is installed into the bundle for linux-arm64 instead.
 */
const usesArgon2 = (file: string) => file.startsWith('auth/') || file.startsWith('users/');

/** Modules left out of every bundle: the AWS SDK clients of the Lambda runtime. */
export const BUNDLE_EXTERNALS = ['@aws-sdk/client-*', 'pg-native'];
/** ESM bundles of CommonJS dependencies need `require`. */
export const BUNDLE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

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
 * esbuild options of one function: ESM, minified, source maps, only what it imports. The
 * AWS SDK clients come from the Lambda runtime; the password hasher is a native package
 * installed for linux-arm64; the docs assets and the migrations are copied beside the bundle.
 */
export function bundlingFor(file: string): BundlingOptions {
  const copies = bundleCopies(file);
  return {
    format: OutputFormat.ESM,
    target: 'node22',
    minify: true,
    sourceMap: true,
    banner: BUNDLE_BANNER,
    externalModules: BUNDLE_EXTERNALS,
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
 * Bundles `functions/<file>.ts` into `outdir/index.mjs` with the esbuild options the stack
 * gives CDK (ESM, node22, minified, same externals and banner) and copies its extra files,
 * so tests and the bench run what Lambda would. `@node-rs/argon2` stays external (CDK
 * installs it for linux-arm64). Returns the bundle's path.
 */
export async function bundleLikeCdk(file: string, outdir: string): Promise<string> {
  const { build } = await import('esbuild');
  const root = fileURLToPath(new URL('../', import.meta.url));
  const outfile = join(outdir, 'index.mjs');
  await build({
    entryPoints: [join(root, 'functions', `${file}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    outfile,
    external: [...BUNDLE_EXTERNALS, '@node-rs/argon2'],
    banner: { js: BUNDLE_BANNER },
    logLevel: 'silent',
  });
  for (const [from, to] of bundleCopies(file)) {
    await cp(join(root, from), join(outdir, to), { recursive: true });
  }
  return outfile;
}
