// A delay that falls due while no process is running fires when one starts: the due time is a
// row in the store, and a starting engine reads the next one from there (no clock move needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reopenableStores } from './support/reopen-stores.ts';
import { ManualClock } from '../src/core/clock.ts';
import { Spool } from '../src/engine/spool.ts';

/** No ticks or polls during the test: only the starting engine's due timer can start the job. */
const QUIET = { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000, onError: () => {} } as const;

for (const [name, make] of Object.entries(reopenableStores)) {
  describe(`a delay due while the process was down (${name})`, () => {
    it('fires when the next process starts, and jobs not yet due wait for their time', async () => {
      const { open, cleanup } = make();
      const clock = new ManualClock();
      try {
        const before = await Spool.open({ store: await open(), clock, ...QUIET });
        const due = await before.queue('later').add('due while down', { delayMs: 5_000 });
        const notYet = await before.queue('later').add('not yet', { delayMs: 60_000 });
        await before.close();
        await clock.advance(10_000); // nobody is running

        const after = await Spool.open({ store: await open(), clock, ...QUIET });
        try {
          const started: string[] = [];
          after.queue('later').work(async (job) => void started.push(job.id));
          await clock.advance(0); // timers due now run; no time passes
          for (let i = 0; started.length < 1; i++) {
            if (i > 2000) throw new Error('the job due while the process was down never started');
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          assert.deepEqual(started, [due.id]);
          assert.equal((await after.get(notYet.id)).state, 'scheduled');
          await clock.advance(49_999);
          assert.equal((await after.get(notYet.id)).state, 'scheduled');
          await clock.advance(1);
          for (let i = 0; started.length < 2; i++) {
            if (i > 2000) throw new Error('the job not yet due never started when it fell due');
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          assert.deepEqual(started, [due.id, notYet.id]);
        } finally {
          await after.close();
        }
      } finally {
        cleanup();
      }
    });
  });
}
