import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Static files the docs pages load, by URL name → file inside its npm package. */
export const DOCS_ASSETS: Record<string, { module: string; contentType: string }> = {
  'swagger-ui.css': {
    module: 'swagger-ui-dist/swagger-ui.css',
    contentType: 'text/css; charset=utf-8',
  },
  'swagger-ui-bundle.js': {
    module: 'swagger-ui-dist/swagger-ui-bundle.js',
    contentType: 'text/javascript; charset=utf-8',
  },
  'redoc.standalone.js': {
    module: 'redoc/bundles/redoc.standalone.js',
    contentType: 'text/javascript; charset=utf-8',
  },
};

const ASSET_PATH = '/docs/assets';
const cache = new Map<string, string>();

/**
 * The text of a docs asset, or null for a name not in `DOCS_ASSETS`. In a Lambda bundle
 * the files sit in `assets/` beside the handler (copied at bundling); locally they are
 * resolved from `node_modules`.
 */
export async function readDocsAsset(
  name: string,
): Promise<{ body: string; contentType: string } | null> {
  // Own keys only: `constructor`, `__proto__` or `toString` are not assets (404, not a crash).
  const asset = Object.hasOwn(DOCS_ASSETS, name) ? DOCS_ASSETS[name] : undefined;
  if (!asset) return null;
  let body = cache.get(name);
  if (body === undefined) {
    const bundled = fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
    const file = existsSync(bundled)
      ? bundled
      : createRequire(import.meta.url).resolve(asset.module);
    body = await readFile(file, 'utf8');
    cache.set(name, body);
  }
  return { body, contentType: asset.contentType };
}

/** Content-Security-Policy source for an inline script (CSP Level 3 hash source). */
function scriptHash(script: string): string {
  return `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
}

/** Directives shared by both docs pages; the middy defaults that would break them are unset. */
const BASE_POLICY: Record<string, string | undefined> = {
  'default-src': "'none'",
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data:",
  'font-src': "'self' data:",
  'connect-src': "'self'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
  sandbox: undefined,
  'report-to': undefined,
  'require-trusted-types-for': undefined,
  'upgrade-insecure-requests': undefined,
};

/**
 * The docs pages' icon, our own SVG (a note). It is inlined in each page as a `data:` URL, so
 * a browser neither asks for `/favicon.ico` (a 404 each time) nor makes a request at all,
 * and the Lambda bundle needs no extra file; `img-src` above allows `data:`.
 */
const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">\
<rect x="5" y="3" width="22" height="26" rx="3" fill="#2563eb"/>\
<path d="M10 10h12M10 15h12M10 20h8" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>`;

/** The `<link rel="icon">` of both docs pages (the icon as a base64 `data:` URL, RFC 2397). */
const FAVICON_LINK = `<link rel="icon" type="image/svg+xml" href="data:image/svg+xml;base64,${Buffer.from(FAVICON_SVG).toString('base64')}">`;

const SWAGGER_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });`;

/** Swagger UI page: its Authorize button runs the OAuth2 password flow against the login route. */
export const swaggerUiPage = {
  html: `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>API docs</title>
${FAVICON_LINK}
<link rel="stylesheet" href="${ASSET_PATH}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="${ASSET_PATH}/swagger-ui-bundle.js"></script>
<script>${SWAGGER_INIT}</script>
</body>
</html>`,
  contentSecurityPolicy: {
    ...BASE_POLICY,
    'script-src': `'self' ${scriptHash(SWAGGER_INIT)}`,
  } as Record<string, string>,
};

/** ReDoc page (ReDoc renders in a web worker made from a blob URL). */
export const redocPage = {
  html: `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>API reference</title>
${FAVICON_LINK}</head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="${ASSET_PATH}/redoc.standalone.js"></script>
</body>
</html>`,
  contentSecurityPolicy: {
    ...BASE_POLICY,
    'script-src': "'self'",
    'worker-src': "'self' blob:",
  } as Record<string, string>,
};
