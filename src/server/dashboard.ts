/**
 * The web dashboard (docs/operations.md, Dashboard): the page at `/`, its own files under
 * `/dashboard/` (src/dashboard/, copied to dist/dashboard/ by the build) and the browser
 * builds of Preact, htm and uPlot under `/dashboard/vendor/`, read from the installed
 * packages, so the page works offline and with no build step.
 *
 * The page and its files hold no data and are served without a token; every data call the
 * page makes goes to the API with the token the user signed in with. `/dashboard/session`
 * says what that token may do, so the page can disable what it would be refused.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from './auth/scopes.ts';

/** The dashboard's routes that need no token: the page and its static files. */
export const DASHBOARD_PUBLIC_ROUTES: readonly string[] = ['/', '/dashboard/*'];
/** What the signed-in token may do (needs the token, as every data call does). */
export const DASHBOARD_SESSION_ROUTE = '/dashboard/session';

/** Whether a route (as Fastify names it) is the dashboard's rather than the API's. */
export const isDashboardRoute = (url: string): boolean => url === '/' || url.startsWith('/dashboard/');

/** What `/dashboard/session` answers. */
export interface DashboardSession {
  /** The token's id; null when the broker does not enforce tokens. */
  tokenId: string | null;
  scopes: string[];
  /** Whether the token may act (cancel, retry, delete, pause, purge, settings): the `admin` scope. */
  admin: boolean;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

/** The browser modules the dashboard imports by bare name (its import map), from the installed packages. */
const VENDOR_MODULES: Record<string, string> = {
  preact: 'preact',
  'preact/hooks': 'preact/hooks',
  htm: 'htm',
  uplot: 'uplot/dist/uPlot.esm.js',
};
/** Vendor files the page links to directly. */
const VENDOR_FILES: Record<string, string> = { 'uplot.css': 'uplot/dist/uPlot.min.css' };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// Our own files change with Spool: the browser asks again each time (a 304 when unchanged).
const REVALIDATE = 'no-cache';
// A vendor file's URL names its package version, so a URL's content never changes.
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** src/dashboard/ beside src/server/ (dist/dashboard/ beside dist/server/ in the package). */
const DASHBOARD_DIR = join(import.meta.dirname, '..', 'dashboard');
const IMPORT_MAP_MARK = '<!-- import map -->';

interface Files {
  /** By path under `/dashboard/`. */
  assets: Map<string, Asset>;
  page: Asset;
  /** The CSP hash of the page's inline import map. */
  importMapHash: string;
}

let files: Files | null = null;

/** Read once, on the first request: a broker that nobody opens the dashboard of never reads them. */
function loadFiles(): Files {
  if (files) return files;
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(DASHBOARD_DIR, { recursive: true, withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || !type) continue;
    const path = join(entry.parentPath, entry.name).slice(DASHBOARD_DIR.length + 1).split('\\').join('/');
    assets.set(path, asset(readFileSync(join(entry.parentPath, entry.name)), type, REVALIDATE));
  }
  const imports: Record<string, string> = {};
  const vendor = (specifier: string, name: string) => {
    const file = fileURLToPath(import.meta.resolve(specifier));
    const path = `vendor/${packageOf(file)}/${name}`;
    assets.set(path, asset(readFileSync(file), TYPES[extname(file)] ?? 'application/octet-stream', IMMUTABLE));
    return `/dashboard/${path}`;
  };
  for (const [name, specifier] of Object.entries(VENDOR_MODULES)) imports[name] = vendor(specifier, `${name.replace('/', '-')}.mjs`);
  const links: Record<string, string> = {};
  for (const [name, specifier] of Object.entries(VENDOR_FILES)) links[name] = vendor(specifier, name);

  const importMap = JSON.stringify({ imports });
  const template = assets.get('index.html')?.body.toString('utf8');
  if (!template?.includes(IMPORT_MAP_MARK)) throw new Error(`the dashboard's index.html in ${DASHBOARD_DIR} has no "${IMPORT_MAP_MARK}"`);
  const html = template
    .replace(IMPORT_MAP_MARK, `<script type="importmap">${importMap}</script>`)
    .replaceAll('{{uplot.css}}', links['uplot.css']!);
  assets.delete('index.html');
  files = {
    assets,
    page: asset(Buffer.from(html), TYPES['.html']!, REVALIDATE),
    importMapHash: `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`,
  };
  return files;
}

function asset(body: Buffer, type: string, cacheControl: string): Asset {
  return { body, type, cacheControl, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** `name@version` of the package a file belongs to: the nearest package.json above it with a name. */
function packageOf(file: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name && pkg.version) return `${pkg.name}@${pkg.version}`;
    } catch {
      // no package.json here (or one without a name, like preact/hooks'): look further up
    }
  }
  throw new Error(`no package.json above ${file}`);
}

/**
 * The page's Content-Security-Policy: nothing but this origin, the one inline script being
 * the import map (allowed by its hash), and the WebSocket of this broker. The host is the
 * request's, so the policy holds behind a proxy; one with characters a host cannot have is
 * left out (only `'self'` then), so it cannot inject into the header.
 */
function contentSecurityPolicy(req: FastifyRequest, importMapHash: string): string {
  const host = req.headers.host;
  const ws = host && /^[A-Za-z0-9.[\]:-]{1,300}$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    `script-src 'self' ${importMapHash}`,
    "style-src 'self'",
    `connect-src 'self'${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function send(req: FastifyRequest, reply: FastifyReply, file: Asset): FastifyReply {
  void reply.headers({ 'content-type': file.type, 'cache-control': file.cacheControl, etag: file.etag, 'x-content-type-options': 'nosniff' });
  if (req.headers['if-none-match'] === file.etag) return reply.status(304).send();
  return reply.send(file.body);
}

/**
 * Serves the dashboard on the API's Fastify instance. `who` is the API's own authentication
 * of a request (its token, checked by the same hook as every route).
 */
export function registerDashboard(app: FastifyInstance, who: (req: FastifyRequest) => Principal): void {
  app.get('/', (req, reply) => {
    const { page, importMapHash } = loadFiles();
    void reply.headers({ 'content-security-policy': contentSecurityPolicy(req, importMapHash), 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
    return send(req, reply, page);
  });
  app.get(DASHBOARD_SESSION_ROUTE, async (req): Promise<DashboardSession> => {
    const principal = who(req);
    return { tokenId: principal.tokenId, scopes: principal.scopes.map((s) => s.text), admin: principal.can('admin') };
  });
  app.get('/dashboard/*', (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    const file = loadFiles().assets.get(path);
    if (!file) return reply.status(404).send({ code: 'NOT_FOUND', message: `the dashboard has no file ${JSON.stringify(path.slice(0, 200))}` });
    return send(req, reply, file);
  });
}
