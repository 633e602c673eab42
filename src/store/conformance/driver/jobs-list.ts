import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOB_STATES } from '../../../core/job.ts';
import { insertAndClaim, jobId, leaseOf, newRow, T, withStore, type DriverContext } from './harness.ts';

/** jobsList: by queue, by state, in id order, with a cursor. */
export function listArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('list', () => {
    it('lists the jobs of one queue in id order, live and finished alike, filtered by state, paged by cursor', { skip }, () =>
      withStore(ctx, async (store) => {
        // One job in each state, inserted out of id order, and one in another queue.
        const [completed, active, dead] = await insertAndClaim(store, [newRow(5), newRow(2, { maxAttempts: 1 }), newRow(6, { maxAttempts: 1 })]);
        await store.jobsComplete([{ lease: leaseOf(completed!), result: null }], T + 1);
        await store.jobsFail([{ lease: leaseOf(dead!), error: 'x', retryAt: T, unrecoverable: true }], T + 1);
        await store.jobsInsertMany([newRow(4), newRow(1, { state: 'scheduled', runAt: T + 60_000 }), newRow(3), newRow(7, { queue: 'other' })]);
        await store.jobsCancel([jobId(3)], T + 1);
        assert.equal(active!.id, jobId(5));

        const ids = async (p: { state?: (typeof JOB_STATES)[number]; after?: string; limit?: number }) =>
          (await store.jobsList({ queue: 'q', limit: 100, ...p })).map((j) => j.id);
        assert.deepEqual(await ids({}), [1, 2, 3, 4, 5, 6].map(jobId));
        const byState = { scheduled: 1, completed: 2, cancelled: 3, ready: 4, active: 5, dead: 6 } as const;
        for (const state of JOB_STATES) assert.deepEqual(await ids({ state }), [jobId(byState[state])], state);
        assert.deepEqual(await ids({ limit: 2 }), [jobId(1), jobId(2)]);
        assert.deepEqual(await ids({ after: jobId(2), limit: 3 }), [jobId(3), jobId(4), jobId(5)]);
        assert.deepEqual(await ids({ after: jobId(6) }), []);
        assert.deepEqual(await ids({ state: 'completed', after: jobId(2) }), []);
        const listed = await store.jobsList({ queue: 'q', limit: 100 });
        assert.deepEqual(listed, await store.jobsGet(listed.map((j) => j.id)), 'listed jobs are whole, as get returns them');
        assert.deepEqual(await store.jobsList({ queue: 'nowhere', limit: 10 }), []);
      }));
  });
}
