// `spool cron` end to end: the real CLI as child processes, on a SQLite store and through a
// broker (`--url`) on a real socket in this process; and a schedule added by the CLI fired by
// a process running maintenance on the same store.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Spool } from '../src/index.ts';
import type { Schedule } from '../src/index.ts';
import { startBroker } from '../src/server/broker.ts';
import { until } from './support/broker.ts';
import { ok, okJson, spool, tempDir } from './support/cli.ts';

delete process.env.SPOOL_URL;
delete process.env.SPOOL_TOKEN;

const quiet = { onError: () => {}, log: () => {} };

/** Runs the cron commands against `target` (`--store <dir>` or `--url <broker>`). */
async function lifecycle(cwd: string, target: readonly string[]): Promise<void> {
  const added = await okJson<Schedule>(cwd, [...target, 'cron', 'add', 'nightly', '--queue', 'reports', '--cron', '0 30 2 * * *', '--tz', 'Europe/Berlin',
    '--payload', '{"report":"daily"}', '--catch-up', 'run-once', '--job-name', 'report', '--priority', '3', '--max-attempts', '2']);
  assert.deepEqual(
    [added.name, added.queue, added.cron, added.timezone, added.payload, added.job, added.catchUp, added.paused],
    ['nightly', 'reports', '0 30 2 * * *', 'Europe/Berlin', { report: 'daily' }, { name: 'report', priority: 3, maxAttempts: 2 }, 'run-once', false],
  );
  const every = await okJson<Schedule>(cwd, [...target, 'cron', 'add', 'heartbeat', '--queue', 'pings', '--every', '30s', '--paused']);
  assert.deepEqual([every.everyMs, every.paused, every.cron], [30_000, true, null]);
  const listed = await ok(cwd, [...target, 'cron', 'list']);
  assert.match(listed, /^NAME +QUEUE +WHEN +CATCH-UP +STATE +NEXT +LAST +FIRED +MISSED$/m);
  assert.match(listed, /^heartbeat +pings +every 30s +skip +paused /m);
  assert.match(listed, /^nightly +reports +0 30 2 \* \* \* \(Europe\/Berlin\) +run-once +active /m);
  assert.equal((await okJson<Schedule>(cwd, [...target, 'cron', 'resume', 'heartbeat'])).paused, false);
  assert.equal((await okJson<Schedule>(cwd, [...target, 'cron', 'pause', 'heartbeat'])).paused, true);
  assert.equal(await ok(cwd, [...target, 'cron', 'rm', 'heartbeat']), 'deleted schedule heartbeat\n');
  assert.deepEqual((await okJson<{ schedules: Schedule[] }>(cwd, [...target, 'cron', 'list'])).schedules.map((s) => s.name), ['nightly']);

  const gone = await spool(cwd, [...target, 'cron', 'rm', 'heartbeat']);
  assert.deepEqual([gone.code, gone.stderr], [3, 'spool: no schedule named heartbeat; see spool cron list\n']);
  const bad = await spool(cwd, [...target, 'cron', 'add', 'x', '--queue', 'q', '--cron', '61 * * * * *']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cron "61 \* \* \* \* \*" is not valid/);
  const tz = await spool(cwd, [...target, 'cron', 'add', 'x', '--queue', 'q', '--every', '1m', '--tz', 'UTC']);
  assert.deepEqual([tz.code, tz.stderr], [2, 'spool: timezone goes with cron (everyMs counts from the Unix epoch)\n']);
  const misplaced = await spool(cwd, [...target, 'cron', 'list', '--queue', 'q']);
  assert.deepEqual([misplaced.code, misplaced.stderr], [2, 'spool: --queue does not go with cron list\n']);
}

test('spool cron on a store: add, list, pause, resume, rm, and its errors', async (t) => {
  const dir = tempDir(t);
  await lifecycle(dir, ['--store', join(dir, 'data')]);
});

test('spool cron through a broker (--url): the same', async (t: TestContext) => {
  const dir = tempDir(t);
  const engine = await Spool.open({ store: join(dir, 'broker.db'), maintenance: false, ...quiet });
  const broker = await startBroker(engine, { port: 0 });
  t.after(async () => {
    await broker.close();
    await engine.close();
  });
  await lifecycle(dir, ['--url', broker.url]);
});

test('a schedule added by spool cron is fired by a process running maintenance on the store', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'spool.db');
  await ok(dir, ['--store', store, 'cron', 'add', 'tick', '--queue', 'ticks', '--every', '1s', '--payload', '"tick"']);
  const firer = await Spool.open({ store, ...quiet });
  t.after(() => firer.close());
  await until(async () => (await firer.stats()).some((s) => s.queue === 'ticks' && s.counts.ready > 0), 10_000, () => 'a job for a slot');
  const [job] = await firer.list('ticks');
  assert.deepEqual([job!.payload, job!.runAt % 1000], ['tick', 0]);
});
