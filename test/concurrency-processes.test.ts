// Four worker processes on a queue with per-key concurrency limits, on PostgreSQL and on one SQLite
// file; one of them is killed with SIGKILL while it runs jobs. From the start and end times the
// workers log (a handler's run starts inside its job's lease, which holds the slot), no moment has
// more jobs of a key running than its limit, counting a run as over when its lease was taken back
// (the `expired` attempt of its token in the job's history): the killed worker's, and a live
// worker's whose heartbeats a loaded machine delayed past its registration. Nothing waits for a
// time: the test waits for states, and a slow machine only stretches the run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Spool } from '../src/index.ts';
import { until } from './support/broker.ts';
import { startFixture, type Child } from './support/child.ts';
import { tempDir } from './support/cli.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

/** How far apart the reaper's steady clock and the workers' wall clocks may read (see the killed worker's runs). */
const CLOCK_SLACK_MS = 50;
const LIMIT = 2;
const LIMITS = { c: 1 };
const KEYS = ['a', 'b', 'c', null] as const;
const JOBS = 80;
const HEARTBEAT_MS = 300;
const WORK_MS = 60;
const GENEROUS_MS = 90_000;

interface Run { key: string; start: number; end: number; worker: number; id: string; killed: boolean; takenBack: boolean }

/** The most runs of one key that overlap at any moment; a run ending at t does not overlap one starting at t. */
function busiest(runs: readonly Run[]): number {
  const events = runs.flatMap((r) => [[r.start, 1], [r.end, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (now += d));
  return max;
}

async function runWorkers(t: TestContext, store: string, schema: string): Promise<void> {
  const spool = await Spool.open({ store, ...(schema === '-' ? {} : { schema }), maintenance: false, heartbeatIntervalMs: HEARTBEAT_MS });
  t.after(() => spool.close());
  const q = spool.queue('work');
  // A long visibility timeout: the killed worker's leases can only come back by its lapsed registration.
  await q.configure({ concurrencyLimit: LIMIT, concurrencyLimits: LIMITS, visibilityTimeoutMs: 10 * 60_000, maxStalls: 5 });
  const workers: Child[] = [0, 1, 2, 3].map(() => startFixture('keyed-worker.ts', [store, schema, 'work', '4', String(HEARTBEAT_MS), String(WORK_MS)]));
  t.after(() => { for (const w of workers) w.child.kill('SIGKILL'); });
  await until(() => workers.every((w) => w.lines.includes('ready')), 60_000, () => `workers to start (${workers.map((w) => w.stderr()).join(' | ')})`);
  await q.addMany(Array.from({ length: JOBS }, (_, i) => {
    const key = KEYS[i % KEYS.length]!;
    return { payload: i, ...(key === null ? {} : { concurrencyKey: key }) };
  }));

  // Kill a worker while it runs a job (a start without its end), once it has run some: whichever
  // is first to be so (which one gets jobs is up to the machine's scheduling).
  const running = (w: Child) => {
    const delivery = (l: string) => { const f = l.split(' '); return `${f[1]} ${f.at(-1)}`; };
    const ended = new Set(w.lines.filter((l) => l.startsWith('end ')).map(delivery));
    return w.lines.filter((l) => l.startsWith('start ') && !ended.has(delivery(l)));
  };
  const midRun = (w: Child) => w.lines.some((l) => l.startsWith('end ')) && running(w).length > 0;
  await until(() => workers.some(midRun), GENEROUS_MS, () => 'a worker to be running a job after finishing one');
  const victim = workers.find(midRun)!;
  victim.child.kill('SIGKILL');
  await victim.exited;
  await until(async () => (await q.stats()).counts.completed === JOBS, GENEROUS_MS, () => 'every job to complete');

  const runs: Run[] = [];
  for (const w of workers) {
    // A delivery is its job and lease token: one job may run twice (its first lease taken back).
    const ends = new Map(w.lines.filter((l) => l.startsWith('end ')).map((l) => {
      const [, id, at, token] = l.split(' ') as [string, string, string, string];
      return [`${id} ${token}`, Number(at)];
    }));
    for (const line of w.lines.filter((l) => l.startsWith('start '))) {
      const [, id, key, at, token] = line.split(' ') as [string, string, string, string, string];
      const logged = ends.get(`${id} ${token}`);
      // A delivery whose lease was taken back (its worker killed, or its registration lapsed while
      // a loaded machine delayed its heartbeats) holds its key's slot until then: the limit is on
      // leases, and a handler still running past its lease is the at-least-once redelivery the
      // docs describe (its ack is refused as stale). Read off the reaping process's clock, which is
      // steady (it follows the wall clock the workers stamp with, slewed: a few ms apart at times);
      // the slack keeps a job of the key started just after the reap, on a clock a little behind,
      // from reading as overlapping it.
      const job = await spool.get(id);
      const expired = job.history.find((h) => h.token === Number(token) && h.outcome === 'expired');
      if (logged === undefined) assert.ok(expired, `${id} of the killed worker was taken back (history ${JSON.stringify(job.history)})`);
      const end = Math.min(logged ?? Infinity, expired ? expired.endedAt - CLOCK_SLACK_MS : Infinity);
      runs.push({ key, start: Number(at), end, worker: workers.indexOf(w), id, killed: logged === undefined, takenBack: expired !== undefined });
    }
  }
  assert.ok(runs.length >= JOBS, `every job ran (${runs.length} runs)`);
  for (const key of ['a', 'b', 'c']) {
    const limit = key === 'c' ? LIMITS.c : LIMIT;
    const most = busiest(runs.filter((r) => r.key === key));
    // On failure, the key's runs in start order (worker, job, times relative to the first start; a
    // killed worker's run ends where its lease was taken back), to tell a real overlap from the clocks'.
    const mine = runs.filter((r) => r.key === key).sort((x, y) => x.start - y.start);
    const t0 = mine[0]?.start ?? 0;
    assert.ok(most <= limit, `key ${key}: ${most} ran at once, limit ${limit}; runs: ${mine.map((r) => `w${r.worker} ${r.id.slice(-6)} ${r.start - t0}–${r.end - t0}${r.killed ? ' (killed)' : r.takenBack ? ' (lease taken back)' : ''}`).join(', ')}`);
    assert.ok(most >= 1);
  }
  console.log(`per key at once: ${['a', 'b', 'c', '-'].map((k) => `${k} ${busiest(runs.filter((r) => r.key === k))}`).join(', ')}; ${runs.length} runs, ${runs.filter((r) => r.takenBack && !r.killed).length} of live workers whose leases were taken back`);
}

describe('per-key concurrency across real processes (one SIGKILLed)', () => {
  it('PostgreSQL: four worker processes never run more than a key\'s limit at once', { timeout: 180_000 }, (t) =>
    runWorkers(t, testPgUrl(), uniqueSchema('keys')));

  it('one SQLite file: four worker processes never run more than a key\'s limit at once', { timeout: 180_000 }, (t) =>
    runWorkers(t, join(tempDir(t), 'spool.db'), '-'));
});
