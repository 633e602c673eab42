import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withHarness, type HarnessTarget } from './harness.ts';
import { waitFor } from './worker.ts';

export function claimSuite(target: HarnessTarget): void {
  describe('claim', () => {
    it('leases jobs: active, attempt 1, a token, a deadline one visibility timeout away', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ visibilityTimeoutMs: 10_000 });
        const added = await api.queue('q').add({ a: 1 });
        const [job] = await spool.claim('q', 5);
        assert.ok(job);
        assert.equal(job.id, added.id);
        assert.equal(job.state, 'active');
        assert.equal(job.attempt, 1);
        assert.equal(job.leaseToken, 1);
        assert.equal(job.leaseExpiresAt, clock.now() + 10_000);
        assert.deepEqual(job.payload, { a: 1 });
        assert.deepEqual(await spool.claim('q', 5), [], 'a leased job is not delivered twice');
      }));

    it('orders by priority, then ready time, then id (FCFS within a priority)', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const q = api.queue('q');
        const low1 = await q.add('low1', { priority: 0 });
        await clock.advance(1);
        const high1 = await q.add('high1', { priority: 5 });
        await clock.advance(1);
        const low2 = await q.add('low2', { priority: 0 });
        await clock.advance(1);
        const high2 = await q.add('high2', { priority: 5 });
        const neg = await q.add('neg', { priority: -1 });
        const got = await spool.claim('q', 10);
        assert.deepEqual(got.map((j) => j.id), [high1.id, high2.id, low1.id, low2.id, neg.id]);
      }));

    it('claims one at a time in the same order as a batch', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        const jobs = await q.addMany([{ payload: 1, priority: 1 }, { payload: 2 }, { payload: 3, priority: 1 }, { payload: 4 }]);
        const order: unknown[] = [];
        for (let i = 0; i < 4; i++) order.push((await spool.claim('q', 1))[0]!.payload);
        assert.deepEqual(order, [1, 3, 2, 4]);
        assert.equal(jobs.length, 4);
      }));

    it('never starves equal-priority jobs: a steady stream of new jobs does not overtake old ones', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const q = api.queue('q');
        const old = await q.add('old');
        for (let i = 0; i < 20; i++) {
          await clock.advance(1);
          await q.add(`new${i}`);
        }
        const [first] = await spool.claim('q', 1);
        assert.equal(first!.id, old.id);
      }));

    it('keeps queues apart', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('a').add('in a');
        await api.queue('b').add('in b');
        const got = await spool.claim('a', 10);
        assert.deepEqual(got.map((j) => j.payload), ['in a']);
      }));

    it('concurrent claims never hand out the same job twice', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').addMany(Array.from({ length: 300 }, (_, i) => ({ payload: i })));
        const batches = await Promise.all(Array.from({ length: 12 }, () => spool.claim('q', 30)));
        const ids = batches.flat().map((j) => j.id);
        assert.equal(ids.length, 300);
        assert.equal(new Set(ids).size, 300);
      }));

    it('a paused queue delivers nothing to workers until resumed', () =>
      withHarness(target, async ({ api, spool, clock, settled }) => {
        const q = api.queue('q');
        await q.configure({}); // pausing never creates a queue: setting its settings does
        await q.pause();
        await q.add(1);
        const seen: unknown[] = [];
        q.work(async (job) => void seen.push(job.payload));
        await clock.advance(5000);
        await settled();
        assert.deepEqual(seen, []);
        assert.deepEqual(await spool.claim('q', 10), [], 'nor to a pull claim');
        assert.equal((await q.stats()).paused, true);
        await q.resume();
        await waitFor(() => seen.length === 1, 20_000, 'the job after resume');
        assert.deepEqual(seen, [1]);
      }));
  });
}
