// `npm run build` (and `npm pack` / `npm publish`, through prepack): compiles src/ to dist/
// (JavaScript, .d.ts and source maps) with tsconfig.build.json, for the published package,
// and copies the dashboard's static files (src/dashboard/: browser modules, CSS, the page)
// as they are, to dist/dashboard/ where dist/server/dashboard.js serves them from.
// The repository itself runs src/ directly; nothing here needs dist/.
//
// The output goes to a fresh folder first and replaces dist/ in one rename, so dist/ never
// holds files of a removed source, and a build running at the same time as another (two
// `npm test` runs pack the package) never sees a half-written dist/.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const next = join(root, `dist.building-${process.pid}`);
const old = join(root, `dist.old-${process.pid}`);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(next, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', next], { stdio: 'inherit' });
if (result.status !== 0) {
  rmSync(next, { recursive: true, force: true });
  console.error(`build: tsc failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
  process.exit(1);
}
// Plain browser files, no TypeScript: tsc leaves them alone, so they are copied.
cpSync(join(root, 'src', 'dashboard'), join(next, 'dashboard'), { recursive: true, filter: (from) => statSync(from).isDirectory() || /\.(html|js|css|svg)$/.test(from) });
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
