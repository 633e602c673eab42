import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultQueueConfig, type JobOrder, type QueueConfig } from '../../../core/queue-config.ts';
import type { Store } from '../../store.ts';
import { getJob, jobId, leaseOf, newRow, T, withStore, type DriverContext } from './harness.ts';

const priority = (agingMs: number): JobOrder => ({ policy: 'priority', agingMs });
const sjf = (costFactor: number): JobOrder => ({ policy: 'sjf', costFactor });
const fair = (weights: Record<string, number> = {}): JobOrder => ({ policy: 'fair', weights });
const config = (over: Partial<QueueConfig>): QueueConfig => ({ ...defaultQueueConfig(), ...over });
const claimIds = async (store: Store, limit: number, byKey = true, now = T) =>
  (await store.jobsClaim({ queue: 'q', limit, leaseMs: 60_000, now, byKey })).map((j) => j.id);

/** Sort keys (NewJobRow.order), claims by key (ClaimParams.byKey), learned run times (CompleteItem.learn) and a change of order (queueUpsert). */
export function orderArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('order by sort key', () => {
    it('priority: runAt − priority × agingMs, lowest first, then id; the fifo claim keeps its order', { skip }, () =>
      withStore(ctx, async (store) => {
        const o = priority(100);
        await store.jobsInsertMany([
          newRow(1, { priority: 0, runAt: T - 1000, order: o }), // key T − 1000
          newRow(2, { priority: 5, runAt: T, order: o }), // T − 500
          newRow(3, { priority: 20, runAt: T, order: o }), // T − 2000
          newRow(4, { priority: 0, runAt: T - 1000, order: o }), // T − 1000, after 1 by id
        ]);
        assert.deepEqual(await claimIds(store, 2), [jobId(3), jobId(1)]);
        assert.deepEqual(await claimIds(store, 1, false), [jobId(2)], 'a fifo claim: highest priority');
        assert.deepEqual(await claimIds(store, 5), [jobId(4)]);
      }));

    it('sjf: runAt + cost × factor; without a cost, the learned estimate of the name (an EWMA), else 0', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.equal(await store.runEstimateGet('q', 'slow'), null);
        await store.jobsInsertMany([newRow(1, { name: 'slow' }), newRow(2, { name: 'slow' })]);
        const [a, b] = await store.jobsClaim({ queue: 'q', limit: 2, leaseMs: 60_000, now: T });
        // Two samples in one call may be folded as their mean: 1000 then 3000, or their mean 2000, both give 2000 at 100 %.
        const learn = (runMs: number) => ({ queue: 'q', name: 'slow', runMs, weightPct: 100 });
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(a!), result: null, learn: learn(1000) }], T + 1), [{ ok: true }]);
        assert.equal(await store.runEstimateGet('q', 'slow'), 1000, 'the first sample is taken as it is');
        await store.jobsComplete([{ lease: leaseOf(b!), result: null, learn: { ...learn(3000), weightPct: 50 } }], T + 2);
        assert.equal(await store.runEstimateGet('q', 'slow'), 2000, '1000 + 50 % of (3000 − 1000)');
        await store.jobsComplete([{ lease: leaseOf(b!), result: null, learn: learn(9999) }], T + 3);
        assert.equal(await store.runEstimateGet('q', 'slow'), 2000, 'an ack that did not apply teaches nothing');
        const o = sjf(2);
        await store.jobsInsertMany([
          newRow(3, { name: 'slow', order: o }), // T + 2000 × 2
          newRow(4, { name: 'new', order: o }), // no estimate: T
          newRow(5, { name: 'slow', cost: 100, order: o }), // T + 200
          newRow(6, { name: 'x', cost: 0.5, runAt: T - 1, order: o }), // T
        ]);
        assert.deepEqual(await claimIds(store, 4), [jobId(4), jobId(6), jobId(5), jobId(3)]);
        assert.equal((await getJob(store, jobId(6))).cost, 0.5);
        assert.equal((await getJob(store, jobId(4))).cost, null);
      }));

    it('fair: virtual finish tags per group; a group arriving later starts from the smallest ready tag; weights', { skip }, () =>
      withStore(ctx, async (store) => {
        const o = fair({ b: 2 });
        await store.jobsInsertMany([1, 2, 3, 4].map((n) => newRow(n, { group: 'a', order: o }))); // tags 1 2 3 4
        await store.jobsInsertMany([5, 6, 7, 8].map((n) => newRow(n, { group: 'b', order: o }))); // V = 1: 1.5 2 2.5 3
        await store.jobsInsertEach([newRow(9, { group: null, order: o })]); // the group of jobs without one: V = 1: 2
        assert.deepEqual(await claimIds(store, 9), [1, 5, 2, 6, 9, 7, 3, 8, 4].map(jobId));
        // Nothing ready: a new group starts from the largest tag issued (4), not from 0.
        await store.jobsInsertMany([newRow(10, { group: 'c', order: o }), newRow(11, { group: 'a', order: o })]);
        const [c, a] = await Promise.all([getJob(store, jobId(10)), getJob(store, jobId(11))]);
        assert.equal(c.state, 'ready');
        assert.deepEqual(await claimIds(store, 2), [jobId(10), jobId(11)]);
        assert.equal(a.group, 'a');
      }));

    it('a claim by key takes jobs without a key (added as fifo) once the keyed ones run out; due scheduled jobs by key too', { skip }, () =>
      withStore(ctx, async (store) => {
        const o = priority(1000);
        await store.jobsInsertMany([
          newRow(1, { priority: 9 }), // no key
          newRow(2, { order: o }),
          newRow(3, { state: 'scheduled', runAt: T - 1, order: o }), // due: key T − 1
          newRow(4, { state: 'scheduled', runAt: T + 10, order: o }), // not due
        ]);
        assert.deepEqual(await claimIds(store, 2), [jobId(3), jobId(2)]);
        assert.deepEqual(await claimIds(store, 5), [jobId(1)]);
        assert.deepEqual(await claimIds(store, 5, true, T + 10), [jobId(4)]);
      }));

    it('a released, failed or redriven job keeps its key', { skip }, () =>
      withStore(ctx, async (store) => {
        const o = priority(1000);
        await store.jobsInsertMany([newRow(1, { order: o }), newRow(2, { runAt: T + 500, order: o }), newRow(3, { priority: 9 })]);
        const [one] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 60_000, now: T + 1000, byKey: true });
        assert.equal(one!.id, jobId(1));
        await store.jobsFail([{ lease: leaseOf(one!), error: 'no', retryAt: T + 2000, unrecoverable: true }], T + 1000);
        assert.equal((await getJob(store, jobId(1))).state, 'dead');
        await store.jobsRetry([jobId(1)], T + 5000);
        assert.deepEqual(await claimIds(store, 1, true, T + 5000), [jobId(1)], 'redriven: its key T, before job 2 (T + 500)');
        const [two] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 60_000, now: T + 5000, byKey: true });
        await store.jobsRelease([leaseOf(two!)], T + 6000);
        assert.deepEqual(await claimIds(store, 5, true, T + 6000), [jobId(2), jobId(3)], 'released: keyed again, before the job without a key');
      }));

    it('queueUpsert with another order gives the live jobs of the queue new keys; fifo takes them away', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { runAt: T - 5000 }),
          newRow(2, { priority: 3, runAt: T }),
          newRow(3, { group: 'g', runAt: T }),
          newRow(4, { queue: 'other' }),
        ]);
        await store.queueUpsert('q', config({ policy: 'priority', agingMs: 1000 }), T); // keys T − 5000, T − 3000, T
        assert.deepEqual(await claimIds(store, 1), [jobId(1)]);
        await store.queueUpsert('q', config({ policy: 'fair', fairWeights: {} }), T); // each group in id order: 1 1 2 → ids 1 (active) 2 3
        assert.deepEqual(await claimIds(store, 1), [jobId(3)], 'job 3 is first of its group, job 2 second of the no-group group');
        await store.queueUpsert('q', config({ policy: 'fifo' }), T);
        assert.deepEqual(await claimIds(store, 5), [jobId(2)], 'no key left: the fallback, in fifo order');
        assert.deepEqual(await store.jobsClaim({ queue: 'other', limit: 5, leaseMs: 1000, now: T, byKey: true }).then((j) => j.map((x) => x.id)), [jobId(4)]);
      }));
  });
}
