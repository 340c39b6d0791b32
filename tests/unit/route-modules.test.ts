import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { definesFor, esbuildOptionsLikeCdk } from '../../infra/functions.js';
import type { RouteDefinition } from '../../shared/http/route.js';
import { fallbackRoute, routeList, routes } from '../../shared/routes/index.js';
import * as system from '../../shared/routes/system.js';

/**
 * The route table is one module per domain (DESIGN.md § One route table): `shared/routes/
 * <domain>.ts` exports `<domain>Routes`, `index.ts` gathers them, and `functions/<domain>/*.ts`
 * imports its own domain's module, so each bundle holds only its own schemas.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const ROUTES_DIR = 'shared/routes';

/** Route modules that are not a domain's entries: the gathering index and the fallback. */
const NOT_GATHERED = new Set(['index', 'system']);

/**
 * Function files that need another route module than their own domain's, and why. Every other
 * function file imports exactly `shared/routes/<its folder>.ts`.
 */
const EXTRA_ROUTE_IMPORTS: Record<string, string[]> = {
  // The OpenAPI document describes every route.
  'docs/openapi': ['shared/routes/index.ts'],
  // A 405 lists the methods of every route on the path (`resolveRoute`).
  'system/fallback': ['shared/routes/index.ts'],
  // The new account's `Location` is the path of `users.me`.
  'auth/register': ['shared/routes/users.ts'],
};

/** Repository-relative paths of the `.ts` files directly in `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `${dir}/${name}`)
    .sort();
}

/**
 * The relative modules a source file imports (static, re-exports, side-effect and dynamic
 * imports), as repository-relative `.ts` paths.
 */
function importsOf(file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  const specifiers = [
    ...source.matchAll(/\bfrom\s*['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] as string);
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(root, join(root, dirname(file), s)).replace(/\.js$/, '.ts'));
}

const domains = tsFiles(ROUTES_DIR)
  .map((file) => file.slice(ROUTES_DIR.length + 1, -'.ts'.length))
  .filter((name) => !NOT_GATHERED.has(name));

/** Each gathered domain module, by domain: its export name and its entries. */
const domainModules = await Promise.all(
  domains.map(async (domain) => {
    const url = pathToFileURL(join(root, ROUTES_DIR, `${domain}.ts`)).href;
    const exports = (await import(url)) as Record<string, Record<string, RouteDefinition>>;
    const exportName = `${domain}Routes`;
    return { domain, exportName, exports, entries: exports[exportName] };
  }),
);

/** HTTP function files: `functions/<domain>/<action>.ts`, without workers and deploy-time ones. */
const functionIds = readdirSync(join(root, 'functions'))
  .filter((area) => area !== 'workers' && area !== 'deploy')
  .flatMap((area) => tsFiles(`functions/${area}`))
  .map((file) => file.slice('functions/'.length, -'.ts'.length));

describe('route modules', () => {
  it('has one module per domain, exporting only `<domain>Routes`, entries of its own folder', () => {
    expect(domains.length).toBeGreaterThan(0);
    for (const { domain, exportName, exports, entries } of domainModules) {
      expect(Object.keys(exports), `shared/routes/${domain}.ts`).toEqual([exportName]);
      expect(Object.keys(entries ?? {}).length, exportName).toBeGreaterThan(0);
      for (const route of Object.values(entries ?? {})) {
        expect(route.function.split('/')[0], `${exportName}: ${route.function}`).toBe(domain);
      }
    }
  });

  it("holds each domain module's entries exactly once, under the same key", () => {
    const gathered = domainModules.flatMap(({ entries }) => Object.entries(entries ?? {}));
    expect(Object.keys(routes).sort()).toEqual(gathered.map(([key]) => key).sort());
    expect(routeList).toHaveLength(gathered.length);
    for (const [key, route] of gathered) {
      expect(routes[key as keyof typeof routes], key).toBe(route);
      expect(
        routeList.filter((r) => r === route),
        key,
      ).toHaveLength(1);
    }
  });

  it('re-exports the fallback of `system.ts`, which is not an entry of `routes`', () => {
    expect(fallbackRoute).toBe(system.fallbackRoute);
    expect(routeList).not.toContain(fallbackRoute);
  });

  it('gives no two routes the same method and path (parameter names aside)', () => {
    const template = (path: string) => path.replace(/\{\w+(\+?)\}/g, '{$1}');
    const keys = [...routeList, fallbackRoute].map((r) => `${r.method} ${template(r.path)}`);
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
  });
});

describe('function files', () => {
  it.each(functionIds)("%s imports only its own domain's route module", (id) => {
    const domain = id.split('/')[0] as string;
    const routeImports = importsOf(`functions/${id}.ts`).filter((path) =>
      path.startsWith(`${ROUTES_DIR}/`),
    );
    const expected = [`${ROUTES_DIR}/${domain}.ts`, ...(EXTRA_ROUTE_IMPORTS[id] ?? [])];
    expect([...new Set(routeImports)].sort()).toEqual(expected.sort());
  });

  it.each(functionIds)('%s handles its own entry of its domain module', (id) => {
    const source = readFileSync(join(root, `functions/${id}.ts`), 'utf8');
    if (id === fallbackRoute.function) {
      expect(source).toMatch(/createHandler\(\s*fallbackRoute\b/);
      return;
    }
    const module = domainModules.find(({ domain }) => domain === id.split('/')[0]);
    const key = Object.entries(module?.entries ?? {}).find(([, r]) => r.function === id)?.[0];
    expect(key, `an entry of ${module?.exportName} with function '${id}'`).toBeDefined();
    expect(source).toMatch(new RegExp(`createHandler\\(\\s*${module?.exportName}\\.${key}\\b`));
  });
});

describe('bundles', () => {
  it("notes/get's bundle holds no other domain's route or schema module", async () => {
    // The options of `bundleLikeCdk` (infra/functions.ts), with the metafile and no output files.
    const result = await build({
      ...esbuildOptionsLikeCdk(
        join(root, 'functions/notes/get.ts'),
        join(root, 'index.js'),
        definesFor('notes/get'),
      ),
      absWorkingDir: root,
      metafile: true,
      write: false,
    });
    const outputs = Object.values(result.metafile.outputs);
    expect(outputs).toHaveLength(1);
    const inBundle = Object.keys(outputs[0]?.inputs ?? {});

    const schemasOf = (file: string) => importsOf(file).filter((p) => p.endsWith('/schemas.ts'));
    const own = new Set([`${ROUTES_DIR}/notes.ts`, ...schemasOf(`${ROUTES_DIR}/notes.ts`)]);
    const others = tsFiles(ROUTES_DIR).filter((file) => !own.has(file));
    const forbidden = new Set(
      [...others, ...others.flatMap(schemasOf)].filter((file) => !own.has(file)),
    );

    expect(forbidden).toContain('shared/inventory/schemas.ts');
    expect(forbidden).toContain('shared/routes/inventory.ts');
    expect(inBundle).toEqual(expect.arrayContaining([...own]));
    expect(inBundle.filter((file) => forbidden.has(file))).toEqual([]);
  });
});

describe('boundaries (DESIGN.md § Boundaries)', () => {
  it('nothing under shared/routes/ imports from functions/, directly or not', async () => {
    const result = await build({
      entryPoints: tsFiles(ROUTES_DIR).map((file) => join(root, file)),
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir: join(root, 'out'),
      logLevel: 'silent',
      metafile: true,
      write: false,
    });
    const loaded = Object.keys(result.metafile.inputs);
    expect(loaded).toContain(`${ROUTES_DIR}/index.ts`);
    expect(loaded.filter((file) => file.startsWith('functions/'))).toEqual([]);
  });
});
