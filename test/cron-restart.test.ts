// Schedules live in the store: after every process was down for a minute, the next one to start
// applies each schedule's catch-up policy (skip: no job for the missed slots; run-once: one, for
// the latest), and goes on from the next slot. And two engines on one store firing the same
// slots at the same moment add one job per slot. SQLite file and PostgreSQL schema, each opened
// again as a restarted process would; a manual clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reopenableStores } from './support/reopen-stores.ts';
import { ManualClock } from '../src/core/clock.ts';
import type { CatchUp } from '../src/core/schedule.ts';
import { Spool, type OpenOptions } from '../src/engine/spool.ts';

const S = 1000;
const T0 = Date.parse('2026-01-01T00:00:00Z'); // ManualClock's start, a multiple of 10 s
const OPTIONS: Omit<OpenOptions, 'store' | 'clock'> = { cronGraceMs: 2 * S, onError: () => {} };

for (const [name, make] of Object.entries(reopenableStores)) {
  describe(`cron after a 1-minute stop of every process (${name})`, () => {
    for (const [catchUp, expected] of [['skip', [T0 + 10 * S, T0 + 80 * S]], ['run-once', [T0 + 10 * S, T0 + 70 * S, T0 + 80 * S]]] as const) {
      it(`catchUp ${catchUp}: ${catchUp === 'skip' ? 'no job for the missed slots' : 'one job, for the latest missed slot'}, then on from the next slot`, async () => {
        const { open, cleanup } = make();
        const clock = new ManualClock();
        try {
          const before = await Spool.open({ store: await open(), clock, ...OPTIONS });
          await before.schedule('tenner', { queue: 'ticks', everyMs: 10 * S, catchUp: catchUp as CatchUp });
          await clock.advance(15 * S); // the slot at 10 s fires
          await before.close();
          await clock.advance(60 * S); // nobody runs: the slots at 20…70 s pass

          const after = await Spool.open({ store: await open(), clock, ...OPTIONS });
          try {
            await clock.advance(0); // the starting engine's first look at the schedules
            const [s] = await after.schedules();
            assert.deepEqual({ nextAt: s!.nextAt, missed: s!.missed }, { nextAt: T0 + 80 * S, missed: catchUp === 'skip' ? 6 : 5 });
            await clock.advance(5 * S); // the slot at 80 s fires
            const jobs = await after.list('ticks');
            assert.deepEqual(jobs.map((j) => j.runAt).sort(), expected);
          } finally {
            await after.close();
          }
        } finally {
          cleanup();
        }
      });
    }
  });

  describe(`cron: two engines firing the same slots at the same moment (${name})`, () => {
    it('add one job per slot', async () => {
      const { open, cleanup } = make();
      const clock = new ManualClock();
      const quiet = { ...OPTIONS, maintenance: false } as const;
      try {
        const a = await Spool.open({ store: await open(), clock, ...quiet });
        const b = await Spool.open({ store: await open(), clock, ...quiet });
        try {
          await a.schedule('every-second', { queue: 'ticks', cron: '* * * * * *' });
          for (let i = 0; i < 30; i++) {
            await clock.advance(S);
            await Promise.all([a.runMaintenance(), b.runMaintenance()]); // both read the slot due, both fire it
          }
          const runAts = (await a.list('ticks')).map((j) => j.runAt).sort();
          assert.deepEqual(runAts, Array.from({ length: 30 }, (_, i) => T0 + (i + 1) * S));
          const [s] = await b.schedules();
          assert.deepEqual([s!.fired, s!.missed, s!.lastSlot], [30, 0, T0 + 30 * S]);
        } finally {
          await a.close();
          await b.close();
        }
      } finally {
        cleanup();
      }
    });
  });
}
