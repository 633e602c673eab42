/** End-to-end tests of the long-running commands, `spool work` and `spool serve`: real processes and signals. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool } from '../src/index.ts';
import type { Job } from '../src/index.ts';
import { Running, WAIT_MS, ndjson, ok, okJson, spool, statsOf, tempDir, writeHandler } from './support/cli.ts';

test('work runs the handler on jobs added before it started and stops gracefully on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const handler = writeHandler(dir);
  await ok(dir, ['add', 'w', '--file', '-', '--store', store], { input: ndjson(20) });
  const failing = (await ok(dir, ['add', 'w', '{"n":99,"fail":true}', '--max-attempts', '1', '--store', store])).trim();

  const worker = new Running(t, dir, ['work', 'w', handler, '--concurrency', '4', '--store', store]);
  await worker.waitFor('20 jobs done and one failure', (w) => (w.stdout.match(/^done \d+$/gm) ?? []).length === 20 && w.stderr.includes(`job ${failing} failed`));
  worker.child.kill('SIGTERM');
  const exit = await worker.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stderr, new RegExp(`job ${failing} failed \\(attempt 1/1, now dead\\): Error: refused 99\n`));
  assert.match(exit.stderr, /stopped; 20 completed, 1 failed/);

  const s = await statsOf(dir, store, 'w');
  assert.deepEqual(s.counts, { scheduled: 0, ready: 0, active: 0, completed: 20, dead: 1, cancelled: 0 });
  const { jobs } = await okJson<{ jobs: Job[] }>(dir, ['jobs', 'w', '--state', 'completed', '--limit', '1', '--store', store]);
  assert.deepEqual(jobs[0]!.result, { doubled: (jobs[0]!.payload as { n: number }).n * 2 });
  const dead = await okJson<Job>(dir, ['job', failing, '--store', store]);
  assert.equal(dead.deadReason, 'max-attempts');
  assert.match(dead.lastError ?? '', /^Error: refused 99/);
});

test('work waits for a running job on SIGTERM, and a second signal exits 130 at once', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const handler = writeHandler(dir);
  const slow = (await ok(dir, ['add', 'slow', '{"n":1,"slowMs":400}', '--store', store])).trim();

  const graceful = new Running(t, dir, ['work', 'slow', handler, '--store', store]);
  await graceful.waitFor('the slow job to start', (w) => w.stdout.includes('start 1'));
  graceful.child.kill('SIGTERM');
  const exit = await graceful.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /^done 1$/m, 'the running handler was allowed to finish');
  assert.equal((await okJson<Job>(dir, ['job', slow, '--store', store])).state, 'completed');

  const stuck = (await ok(dir, ['add', 'stuck', '{"n":2,"slowMs":60000}', '--store', store])).trim();
  const forced = new Running(t, dir, ['work', 'stuck', handler, '--store', store]);
  await forced.waitFor('the stuck job to start', (w) => w.stdout.includes('start 2'));
  forced.child.kill('SIGTERM');
  await forced.waitFor('the graceful stop to begin', (w) => w.stderr.includes('SIGTERM'));
  forced.child.kill('SIGINT');
  const forcedExit = await forced.exited;
  assert.equal(forcedExit.code, 130, forcedExit.stderr);
  assert.match(forcedExit.stderr, /second SIGINT/);
  assert.equal((await okJson<Job>(dir, ['job', stuck, '--store', store])).state, 'active', 'left for the lease reaper');
});

test('serve --no-metrics leaves /metrics out', async (t) => {
  const dir = tempDir(t);
  const server = new Running(t, dir, ['serve', '--store', join(dir, 'data'), '--port', '0', '--no-metrics']);
  await server.waitFor('the serving line', (s) => s.stdout.includes('\n'));
  const url = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout)?.[1];
  assert.ok(url, server.stdout);
  assert.equal((await fetch(`${url}/metrics`)).status, 404);
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  server.child.kill('SIGTERM');
  assert.equal((await server.exited).code, 0);
});

test('serve prints where its data lives, runs maintenance, and exits 0 on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const delayed = await okJson<Job>(dir, ['add', 'later', '"x"', '--delay', '1', '--store', store]);
  // Short-lived commands run no maintenance: the due job stays scheduled until something promotes it.
  assert.equal((await statsOf(dir, store, 'later')).counts.scheduled, 1);

  const server = new Running(t, dir, ['serve', '--store', store, '--port', '0']);
  await server.waitFor('the serving line', (s) => s.stdout.includes('\n'));
  assert.match(server.stdout, new RegExp(`data in ${join(store, 'spool.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(durability: fsync on commit\\)`));
  const url = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout)?.[1];
  assert.ok(url, server.stdout);
  assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' });
  assert.equal((await fetch(`${url}/metrics`)).status, 200, 'metrics are served by default');

  // serve's maintenance promotes the due job: watch the store from here.
  const engine = await Spool.open({ store, maintenance: false });
  try {
    const deadline = Date.now() + WAIT_MS;
    while ((await engine.get(delayed.id)).state !== 'ready') {
      assert.ok(Date.now() < deadline, 'serve did not promote the due job');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await engine.close();
  }

  server.child.kill('SIGTERM');
  const exit = await server.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stderr, /stopped/);

  const json = new Running(t, dir, ['serve', '--store', store, '--json', '--port', '0']);
  await json.waitFor('the JSON serving line', (s) => s.stdout.includes('\n'));
  const serving = JSON.parse(json.stdout.split('\n')[0]!); // the serving line is the first; the log follows
  assert.match(serving.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(serving.wsUrl, `${serving.url.replace('http:', 'ws:')}/v1/ws`);
  assert.deepEqual({ ...serving, url: undefined, wsUrl: undefined }, {
    status: 'serving', location: join(store, 'spool.db'), durability: 'fsync on commit', url: undefined, wsUrl: undefined, auth: 'auto (no tokens yet: open)',
  });
  json.child.kill('SIGINT');
  const jsonExit = await json.exited;
  assert.equal(jsonExit.code, 0);
  assert.deepEqual(jsonExit.stdout.trim().split('\n').map((l) => JSON.parse(l)).at(-1), { status: 'stopped' });
});

test('serve refuses a non-loopback address without --insecure', async (t) => {
  const dir = tempDir(t);
  const r = await spool(dir, ['serve', '--store', join(dir, 'data'), '--host', '0.0.0.0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/);
});

test('serve refuses a bad --auth, a certificate without its key, and an unknown, non-integer, out-of-bounds or misplaced --set (exit 2)', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const cases: [string[], RegExp][] = [
    [['--auth', 'maybe'], /--auth must be one of auto, required, off/],
    [['--tls-cert', join(dir, 'cert.pem')], /--tls-cert and --tls-key go together/],
    [['--set', 'connectionsMaximum=5'], /--set takes name=value with a setting from docs\/configuration\.md/],
    [['--set', 'connectionsMax=lots'], /--set connectionsMax needs an integer/],
    [['--set', 'connectionsMax=0', '--port', '0'], /connectionsMax must be at least 1/],
    [['--set', 'payloadMaxBytes=5', '--port', '0'], /payloadMaxBytes must be at least 1024/],
    [['--set', 'visibilityTimeoutMs=5000'], /--set visibilityTimeoutMs is not a setting of spool serve; it is a queue setting: set it with spool\.queue\(name\)\.configure/],
    [['--set', 'concurrency=4'], /--set concurrency is not a setting of spool serve; see "Where each is set" in docs\/configuration\.md/],
  ];
  for (const [args, message] of cases) {
    const r = await spool(dir, ['serve', '--store', store, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
