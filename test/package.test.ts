/**
 * The published package, as a user gets it: `npm pack` (prepack builds dist/), the tarball
 * installed into a fresh project outside the repository, and used there under Node 22 and
 * Node 24 (both from the `node` package, installed with the dev dependencies; see NODES): the
 * imports of every entry point, a job end to end through an embedded Spool and a broker,
 * the `spool` command through npx, and a TypeScript check of the published types.
 *
 * Nothing here is skipped: a missing Node binary, a missing file in the tarball or a
 * failed install fails the test with the command's output.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';

const REPO = join(import.meta.dirname, '..');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};
/**
 * The Node binaries the package is tried on, installed by `npm install` / `npm ci`: Node 24 is the
 * root's `node` dev dependency; Node 22 comes from scripts/node22 (the dev dependency
 * `"node22": "file:scripts/node22"`), pinned at the lowest version `engines` allows, so this test
 * holds the lower bound. (A plain alias such as `"node22": "npm:node@^22"` would link its `node`
 * bin over node_modules/.bin/node whenever npm installs it alone, and every npm script would run Node 22.)
 */
const NODES = [
  { major: 22, bin: join(REPO, 'scripts', 'node22', 'node_modules', 'node', 'bin', 'node'), from: 'scripts/node22' },
  { major: 24, bin: join(REPO, 'node_modules', 'node', 'bin', 'node'), from: '"node"' },
];
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
/**
 * Packed, dist/ with its source maps (sources inlined) is about 1.5 MB (the exported store
 * conformance suite is a quarter of it, unpacked): far more means something got in that should not.
 */
const MAX_TARBALL_BYTES = 2_500_000;

interface Output {
  stdout: string;
  stderr: string;
}

/**
 * The environment of every child: npm's own variables of the `npm test` that runs this file
 * (npm_config_*, npm_package_*…) and the test runner's are left out, so the children act as in
 * a user's shell; `node` on the PATH is the given binary, for npm, npx and the bin shim alike.
 */
function envFor(node: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'NODE_TEST_CONTEXT' || key === 'NODE_OPTIONS' || key === 'INIT_CWD' || /^SPOOL_(STORE|SCHEMA)$/.test(key)) continue;
    env[key] = value;
  }
  env.PATH = [dirname(node), process.env.PATH ?? ''].join(delimiter);
  return env;
}

/** Runs a command to its end within `timeoutMs`; a failure carries everything it printed. */
function run(file: string, args: string[], options: { cwd: string; node: string; timeoutMs: number }): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: envFor(options.node), timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const how = err.killed ? `killed after ${options.timeoutMs} ms` : `exit ${String(err.code)}`;
          reject(new Error(`${[file, ...args].join(' ')} (in ${options.cwd}) failed: ${how}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** Every file under `dir`, relative to it, with / separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1).split('\\').join('/'))
    .sort();
}

/** What a user writes: every entry point imported by name, a job through the embedded engine and through a broker. */
const CONSUMER_SCRIPT = `
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from 'spool-queue';
import { startBroker, Authenticator, createToken } from 'spool-queue/server';
import { runDriverConformance, runStoreConformance } from 'spool-queue/conformance';

const dir = mkdtempSync(join(tmpdir(), 'spool-consumer-'));
const spool = await Spool.open({ store: dir });
let handled = 0;
const worker = spool.queue('emails').work(async (job) => {
  handled++;
  // The first attempt fails: the retry path (a failed attempt, scheduled again, run again) runs too.
  if (job.payload.to === 'ada@example.com' && job.attempt === 1) throw new Error('mail server busy');
  return { sentTo: job.payload.to, attempt: job.attempt };
}, { concurrency: 2 });
await spool.queue('emails').configure({ backoff: { type: 'fixed', delayMs: 10 } });
const waitCompleted = async (id) => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const job = await spool.get(id);
    if (job.state === 'completed' || Date.now() > deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const local = await spool.queue('emails').add({ to: 'ada@example.com' });
const localDone = await waitCompleted(local.id);

const broker = await startBroker(spool, { port: 0 });
const remote = await Spool.connect(broker.wsUrl);
const viaBroker = await remote.queue('emails').add({ to: 'grace@example.com' });
const remoteDone = await waitCompleted(viaBroker.id);
const http = await fetch(broker.url + '/openapi.json');
// The dashboard: its page, and a browser module it imports, served from the installed preact.
const page = await fetch(broker.url + '/');
const preact = JSON.parse(/<script type="importmap">([^<]*)</.exec(await page.text())[1]).imports.preact;
const vendor = await fetch(broker.url + preact);
const vendorText = await vendor.text();

await remote.close();
await broker.close();
await worker.close();
const stats = await spool.queue('emails').stats();
await spool.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({
  node: process.version,
  states: [localDone.state, remoteDone.state],
  results: [localDone.result, remoteDone.result],
  history: localDone.history.map((h) => h.outcome + (h.error?.includes('mail server busy') ? ': mail server busy' : '')),
  handled,
  completed: stats.counts.completed,
  openapi: http.status,
  dashboard: [page.status, page.headers.get('content-type'), vendor.status, vendor.headers.get('content-type'), vendorText.includes('createElement')],
  exports: [typeof Authenticator, typeof createToken, typeof runDriverConformance, typeof runStoreConformance],
}));
`;

/** The same, type-checked against the published .d.ts files (exports' "types"), with skipLibCheck off. */
const CONSUMER_TYPES = `
import { Spool, ManualClock, type Job, type SpoolClient } from 'spool-queue';
import { startBroker, Authenticator, type Broker } from 'spool-queue/server';
import { runStoreConformance, type StoreFactory } from 'spool-queue/conformance';

const spool = await Spool.open({ store: 'memory', clock: new ManualClock() });
const job: Job<{ to: string }> = await spool.queue<{ to: string }>('emails').add({ to: 'ada@example.com' });
const client: SpoolClient = spool;
const broker: Broker = await startBroker(spool, { port: 0, auth: new Authenticator(spool.store) });
const conformance: typeof runStoreConformance = runStoreConformance;
export const used: unknown[] = [job.payload.to, client, broker.url, conformance, null as unknown as StoreFactory];
`;

test('the packed package installs outside the repository and runs on Node 22 and Node 24', { timeout: 180_000 }, async (t: TestContext) => {
  const started = Date.now();
  for (const { major, bin, from } of NODES) {
    assert.ok(existsSync(bin), `Node ${major} is missing at ${bin}: \`npm install\` (or \`npm ci\`) installs it from the dev dependency ${from}`);
  }
  const node24 = NODES[1]!.bin;
  assert.equal(realpathSync(join(REPO, 'node_modules', '.bin', 'node')), realpathSync(node24), 'node_modules/.bin/node, which every npm script runs, is the Node 24 of the "node" dev dependency');
  const root = mkdtempSync(join(tmpdir(), 'spool-package-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));

  // npm pack: prepack runs `npm run build`, so the tarball holds a fresh dist/.
  const packDir = join(root, 'pack');
  mkdirSync(packDir);
  await run('npm', ['pack', '--pack-destination', packDir, '--loglevel=error'], { cwd: REPO, node: node24, timeoutMs: 90_000 });
  const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  assert.deepEqual(tarballs, [`${PKG.name}-${PKG.version}.tgz`]);
  const tarball = join(packDir, tarballs[0]!);
  const size = statSync(tarball).size;
  t.diagnostic(`tarball: ${tarballs[0]} ${(size / 1000).toFixed(1)} kB (packed in ${Date.now() - started} ms)`);
  assert.ok(size < MAX_TARBALL_BYTES, `the tarball is ${size} bytes; more than ${MAX_TARBALL_BYTES} means files got in that should not (see "files" in package.json)`);

  // A fresh project outside the repository, as a user has. Its dependencies come from the
  // npm cache where it has them (the repository's install filled it), else from the registry.
  // fast-check is the optional peer dependency of spool-queue/conformance; @types/node is for the type check.
  const app = join(root, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'spool-package-test-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
  await run(
    'npm',
    ['install', tarball, `fast-check@${PKG.devDependencies['fast-check']}`, `@types/node@${PKG.devDependencies['@types/node']}`, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    { cwd: app, node: node24, timeoutMs: 120_000 },
  );
  t.diagnostic(`installed in ${app} after ${Date.now() - started} ms`);

  // What the user got: dist/ (JavaScript, declarations, source maps, the dashboard's static files), the bin shim, README and package.json; no sources, tests, benches or fixtures.
  const installed = join(app, 'node_modules', PKG.name);
  const files = filesUnder(installed);
  const stray = files.filter((f) => !/^(dist\/.+\.(js|d\.ts|js\.map)|dist\/dashboard\/.+\.(html|css|svg)|bin\/spool\.js|package\.json|README\.md|LICEN[CS]E(\.\w+)?)$/.test(f));
  assert.deepEqual(stray, [], 'only dist/, bin/, package.json, README and license files are published');
  assert.deepEqual(files.filter((f) => /\.test\.|(^|\/)(test|tests|bench|fixtures|src)\//.test(f)), [], 'no tests, benches, fixtures or sources');
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/server/index.js', 'dist/server/index.d.ts', 'dist/store/conformance/index.js', 'dist/store/conformance/index.d.ts', 'dist/cli/main.js', 'dist/server/dashboard.js', 'dist/dashboard/index.html', 'dist/dashboard/app.js']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  const js = files.filter((f) => f.endsWith('.js') && f.startsWith('dist/'));
  const tsImports = js.filter((f) => /\bfrom\s+['"]\.{1,2}\/[^'"]*\.ts['"]|\bimport\(\s*['"]\.{1,2}\/[^'"]*\.ts['"]/.test(readFileSync(join(installed, f), 'utf8')));
  assert.deepEqual(tsImports, [], 'relative imports in dist/ end in .js (rewriteRelativeImportExtensions)');

  writeFileSync(join(app, 'consumer.mjs'), CONSUMER_SCRIPT);
  writeFileSync(join(app, 'consumer-types.ts'), CONSUMER_TYPES);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      files: ['consumer-types.ts'],
    }),
  );
  await t.test('the published types check in a strict TypeScript project (skipLibCheck off)', async () => {
    await run(node24, [TSC, '-p', join(app, 'tsconfig.json')], { cwd: app, node: node24, timeoutMs: 60_000 });
  });

  for (const { major, bin } of NODES) {
    await t.test(`Node ${major}`, async (t) => {
      const version = (await run(bin, ['--version'], { cwd: app, node: bin, timeoutMs: 10_000 })).stdout.trim();
      assert.match(version, new RegExp(`^v${major}\\.`), `${bin} is Node ${major}`);
      const engines = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
      t.diagnostic(`${version}; engines.node: ${engines}`);
      if (major === 22) assert.ok(engines.split('||').some((range) => range.trim() === `^${version.slice(1)}`), `Node 22 here (${version}) is the lower bound of engines.node (${engines}): change both together`);

      await t.test('imports spool-queue, spool-queue/server and spool-queue/conformance and runs jobs end to end', async () => {
        const { stdout } = await run(bin, ['consumer.mjs'], { cwd: app, node: bin, timeoutMs: 30_000 });
        const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
        assert.deepEqual(report, {
          node: version,
          states: ['completed', 'completed'],
          results: [{ sentTo: 'ada@example.com', attempt: 2 }, { sentTo: 'grace@example.com', attempt: 1 }],
          history: ['failed: mail server busy', 'completed'],
          handled: 3,
          completed: 2,
          openapi: 200,
          dashboard: [200, 'text/html; charset=utf-8', 200, 'text/javascript; charset=utf-8', true],
          exports: ['function', 'function', 'function', 'function'],
        });
      });

      await t.test('npx spool: --version, add, stats', async () => {
        const store = join(app, `data-node${major}`);
        const npx = (args: string[]) => run('npx', ['--no', '--', 'spool', ...args], { cwd: app, node: bin, timeoutMs: 30_000 });
        assert.equal((await npx(['--version'])).stdout.trim(), PKG.version);
        const added = JSON.parse((await npx(['add', 'emails', '{"to":"ada@example.com"}', '--store', store, '--json'])).stdout) as { id: string; state: string; payload: unknown };
        assert.equal(added.state, 'ready');
        assert.deepEqual(added.payload, { to: 'ada@example.com' });
        const stats = JSON.parse((await npx(['stats', '--store', store, '--json'])).stdout) as { queue: string; counts: { ready: number } }[];
        assert.deepEqual(stats.map((s) => [s.queue, s.counts.ready]), [['emails', 1]]);
      });
    });
  }
  t.diagnostic(`done in ${Date.now() - started} ms`);
});
