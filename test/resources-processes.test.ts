// Resource-aware dispatch across real processes sharing a store (PostgreSQL, and one SQLite file): a
// worker process without tags and one with the gpu tag. The gpu jobs wait (counted as unservable) while
// only the plain worker lives, all run on the gpu worker once it starts, and count as unservable again
// once it is killed and its registration lapses. Nothing waits for a time: the test waits for states.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Spool } from '../src/index.ts';
import { until } from './support/broker.ts';
import { startFixture, type Child } from './support/child.ts';
import { tempDir } from './support/cli.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const HEARTBEAT_MS = 300;
const GENEROUS_MS = 90_000;

/** The jobs a worker process ran: id → the tags they required ('-': none). */
const ran = (w: Child): Map<string, string> => new Map(w.lines.filter((l) => l.startsWith('run ')).map((l) => [l.split(' ')[1]!, l.split(' ')[2]!]));

async function run(t: TestContext, store: string, schema: string): Promise<void> {
  const spool = await Spool.open({ store, ...(schema === '-' ? {} : { schema }), maintenance: false, heartbeatIntervalMs: HEARTBEAT_MS });
  t.after(() => spool.close());
  const q = spool.queue('render');
  const gpuJobs = await q.addMany(Array.from({ length: 6 }, (_, i) => ({ payload: i, requires: ['gpu'] })));
  const plainJobs = await q.addMany(Array.from({ length: 6 }, (_, i) => ({ payload: 100 + i })));
  const start = (tags: string) => startFixture('tagged-worker.ts', [store, schema, 'render', tags, String(HEARTBEAT_MS)]);
  const workers: Child[] = [];
  t.after(() => { for (const w of workers) w.child.kill('SIGKILL'); });

  const plain = start('-');
  workers.push(plain);
  await until(async () => (await q.stats()).counts.completed === 6, GENEROUS_MS, () => `the plain jobs to complete (${plain.stderr()})`);
  await until(async () => (await q.stats()).unservable === 6, GENEROUS_MS, () => 'the gpu jobs to count as unservable');
  assert.equal((await q.stats()).counts.ready, 6);
  assert.deepEqual([...ran(plain).keys()].sort(), plainJobs.map((j) => j.id).sort(), 'the plain worker ran the plain jobs, none of the gpu ones');

  const gpu = start('gpu');
  workers.push(gpu);
  await until(async () => (await q.stats()).counts.completed === 12, GENEROUS_MS, () => `the gpu jobs to complete (${gpu.stderr()})`);
  assert.deepEqual([...ran(gpu).keys()].sort(), gpuJobs.map((j) => j.id).sort(), 'the gpu worker ran every gpu job');
  assert.equal((await q.stats()).unservable, 0);

  // A gpu job added while the gpu worker lives is servable; once it is killed and its registration
  // lapses (1.5 heartbeats), the job counts as unservable: the plain worker never takes it.
  gpu.child.kill('SIGKILL');
  await gpu.exited;
  const late = await q.add('late', { requires: ['gpu'] });
  await until(async () => (await q.stats()).unservable === 1, GENEROUS_MS, () => 'the killed gpu worker to lapse');
  assert.equal((await spool.get(late.id)).state, 'ready');
}

describe('resource-aware dispatch across real processes', () => {
  it('PostgreSQL: gpu jobs wait for a gpu worker process, counted as unservable while none is live', { timeout: 180_000 }, (t) =>
    run(t, testPgUrl(), uniqueSchema('tags')));

  it('one SQLite file: the same', { timeout: 180_000 }, (t) =>
    run(t, join(tempDir(t), 'spool.db'), '-'));
});
