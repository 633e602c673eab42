// Three processes fire one schedule of one-second cron slots on one store (PostgreSQL, and one
// SQLite file); one of them is killed with SIGKILL midway. Every slot from the first to the
// 100th has exactly one job: none missed, none doubled. The store makes a slot's job exist once
// (a compare-and-set on the schedule's row, in the transaction that adds the job), so which
// process fires a slot, or dies while firing it, does not matter. The test waits for states
// (the schedule's latest slot fired), never for a time.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Spool } from '../src/index.ts';
import { until } from './support/broker.ts';
import { startFixture, type Child } from './support/child.ts';
import { tempDir } from './support/cli.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const SLOTS = 100;
const KILL_AFTER = 50;
/** 100 one-second slots take 100 s; this is how long past that a slow machine may take. */
const GENEROUS_MS = (SLOTS + 60) * 1000;

async function fireFromThreeProcesses(t: TestContext, store: string, schema: string): Promise<void> {
  const spool = await Spool.open({ store, ...(schema === '-' ? {} : { schema }), maintenance: false });
  t.after(() => spool.close());
  const firers: Child[] = [0, 1, 2].map(() => startFixture('cron-firer.ts', [store, schema]));
  t.after(() => { for (const f of firers) f.child.kill('SIGKILL'); });
  await until(() => firers.every((f) => f.lines.includes('ready')), 60_000, () => `firers to start (${firers.map((f) => f.stderr()).join(' | ')})`);

  const { nextAt: first } = await spool.schedule('every-second', { queue: 'ticks', cron: '* * * * * *' });
  const last = first! + (SLOTS - 1) * 1000;
  const lastSlot = async () => (await spool.schedules())[0]!.lastSlot ?? 0;
  await until(async () => (await lastSlot()) >= first! + KILL_AFTER * 1000, GENEROUS_MS, () => `${KILL_AFTER} slots to fire (${firers.map((f) => f.stderr()).join(' | ')})`, 200);
  firers[0]!.child.kill('SIGKILL');
  await firers[0]!.exited;
  await until(async () => (await lastSlot()) >= last, GENEROUS_MS, () => `${SLOTS} slots to fire (${firers.map((f) => f.stderr()).join(' | ')})`, 200);

  const jobs = (await spool.list('ticks', { limit: 1000 })).filter((j) => j.runAt >= first! && j.runAt <= last);
  const perSlot = new Map<number, number>();
  for (const j of jobs) perSlot.set(j.runAt, (perSlot.get(j.runAt) ?? 0) + 1);
  const missed = Array.from({ length: SLOTS }, (_, i) => first! + i * 1000).filter((slot) => !perSlot.has(slot));
  const doubled = [...perSlot].filter(([, n]) => n > 1).map(([slot]) => slot);
  assert.deepEqual({ missed, doubled, jobs: jobs.length }, { missed: [], doubled: [], jobs: SLOTS });
  const [schedule] = await spool.schedules();
  assert.equal(schedule!.missed, 0);
}

describe('cron: 3 processes × 100 one-second slots, one SIGKILLed midway: 0 missed, 0 doubled', { concurrency: 2 }, () => {
  it('on PostgreSQL', (t) => fireFromThreeProcesses(t, testPgUrl(), uniqueSchema()));
  it('on one SQLite file', (t) => fireFromThreeProcesses(t, join(tempDir(t), 'spool.db'), '-'));
});
