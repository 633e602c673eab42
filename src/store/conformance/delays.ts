import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withHarness, type HarnessTarget } from './harness.ts';
import { waitFor } from './worker.ts';

const DAY = 86_400_000;

/** From a millisecond to the longest a timer in Node can wait and past it (2³¹−1 ms is about 24.9 days). */
const HORIZONS = [1, 250, 60_000, DAY, 25 * DAY, 30 * DAY];

/** Ticks and polls out of the way: what starts a delayed job here is its due time. */
const NO_TICKS = { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 } as const;

export function delaysSuite(target: HarnessTarget): void {
  describe('delays at any horizon', () => {
    // One harness per horizon: the first claim starts the process's heartbeats, and a month of
    // them on the manual clock would be millions of timer turns.
    it('a delayed job is durable until its due time, then ready to the millisecond, from 1 ms to 30 days', async () => {
      // Through a broker the remote client's own timers (its pings) run on the manual clock too, a
      // turn per ping: the wire carries the delay the same way whatever its length, so a minute is enough there.
      for (const delayMs of target.mode === 'remote' ? HORIZONS.filter((ms) => ms <= 60_000) : HORIZONS) {
        await withHarness(target, async ({ api, spool, clock }) => {
          const q = api.queue('later');
          const job = await q.add({ delayMs }, { delayMs });
          assert.equal(job.runAt, clock.now() + delayMs);
          if (delayMs > 1) await clock.advance(delayMs - 1);
          assert.equal((await api.get(job.id)).state, 'scheduled');
          assert.deepEqual(await spool.claim('later', 10), [], `a job delayed ${delayMs} ms was claimable 1 ms early`);
          await clock.advance(1);
          const claimed = await spool.claim('later', 10);
          assert.deepEqual(claimed.map((j) => j.id), [job.id], `a job delayed ${delayMs} ms was not claimable when due`);
        }, { maintenance: false });
      }
    });

    it("an idle worker is handed each delayed job at its due time by the engine's due timer, not by a tick or a poll", () =>
      withHarness(target, async ({ api, clock, settled }) => {
        const started: { payload: number; at: number }[] = [];
        api.queue('later').work(async (job) => void started.push({ payload: job.payload as number, at: clock.now() }));
        await settled();
        for (const delayMs of [1, 10, 250, 1000, 30_000]) {
          const { runAt } = await api.queue('later').add(delayMs, { delayMs });
          if (delayMs > 1) await clock.advance(delayMs - 1);
          await settled();
          assert.equal(started.length, 0, `a job delayed ${delayMs} ms started early`);
          await clock.advance(1);
          await waitFor(() => started.length === 1, 20_000, `the job delayed ${delayMs} ms`);
          assert.deepEqual(started.pop(), { payload: delayMs, at: runAt }, 'it started at its due time: no clock move was needed after it');
          await settled();
        }
      }, NO_TICKS));
  });
}
