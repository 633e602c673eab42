import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../../../core/job.ts';
import { getJob, insertAndClaim, jobId, leaseOf, newRow, storedJob, T, withStore, type DriverContext } from './harness.ts';

/** Job `n`'s group: `g<n mod 2>`, none for multiples of 3. */
const groupOf = (n: number): string | null => (n % 3 === 0 ? null : `g${n % 2}`);
const groupedRow = (n: number, over: Parameters<typeof newRow>[1] = {}) => newRow(n, { group: groupOf(n), ...over });

/** The group a job is added with: stored as given, read back by every read, filtered by lists, kept through every move. */
export function groupArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('job group', () => {
    it('is stored as given (or null), read back by get, list and claim, and filters lists and searches', { skip }, () =>
      withStore(ctx, async (store) => {
        const rows = [1, 2, 3, 4, 5, 6, 7].map((n) => groupedRow(n, n === 5 ? { name: 'x' } : {}));
        await store.jobsInsertMany(rows.slice(0, 6));
        assert.deepEqual(await store.jobsInsertEach(rows.slice(6)), [{ ok: true }]);
        await store.jobsInsertMany([newRow(8, { queue: 'other', group: 'g1' })]);
        assert.deepEqual(await store.jobsGet(rows.map((r) => r.id)), rows.map(storedJob));
        assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10 })).map((j) => j.group), rows.map((r) => r.group));
        const list = async (p: Partial<Parameters<typeof store.jobsList>[0]>) => (await store.jobsList({ queue: 'q', limit: 10, ...p })).map((j) => j.id);
        assert.deepEqual(await list({ group: 'g1' }), [1, 5, 7].map(jobId));
        assert.deepEqual(await list({ group: 'g0' }), [2, 4].map(jobId));
        assert.deepEqual(await list({ group: 'g1', name: 'x' }), [jobId(5)]);
        assert.deepEqual(await list({ group: 'g1', state: 'ready' }), [1, 5, 7].map(jobId));
        assert.deepEqual(await list({ group: 'g1', after: jobId(1), limit: 1 }), [jobId(5)]);
        assert.deepEqual(await list({ group: 'g1', after: jobId(1), to: jobId(6) }), [jobId(5)]);
        assert.deepEqual(await list({ group: 'none' }), []);
        const search = await store.jobsSearch({ queue: 'q', group: 'g1', limit: 10, scanMax: 100, payload: { path: ['n'], equals: 7 } });
        assert.deepEqual(search.jobs.map((j) => j.id), [jobId(7)]);
        const claimed = await store.jobsClaim({ queue: 'q', limit: 7, leaseMs: 1000, now: T });
        assert.deepEqual(claimed.map((j) => [j.id, j.group]), rows.map((r) => [r.id, r.group]));
        assert.deepEqual(await list({ group: 'g1', state: 'active' }), [1, 5, 7].map(jobId));
        assert.deepEqual(await list({ group: 'g1', state: 'ready' }), []);
      }));

    it('goes with the job wherever it goes: complete, fail, dead, reap, cancel, retry', { skip }, () =>
      withStore(ctx, async (store) => {
        const g = (n: number) => `t${n}`;
        const rows = [newRow(1, { group: g(1) }), newRow(2, { group: g(2), maxAttempts: 1 }), newRow(3, { group: g(3) }), newRow(4, { group: g(4), maxStalls: 1 }), newRow(5, { group: g(5), maxStalls: 5 })];
        const jobs = await insertAndClaim(store, rows);
        const [completed, dead, cancelled] = jobs as [Job, Job, Job];
        await store.jobsComplete([{ lease: leaseOf(completed), result: '"ok"' }], T + 1);
        await store.jobsFail([{ lease: leaseOf(dead), error: 'no', retryAt: T + 1, unrecoverable: false }], T + 1);
        await store.jobsCancel([cancelled.id], T + 1);
        await store.jobsReapExpired({ now: T + 1000, limit: 10 });
        const states = async () => (await store.jobsGet(rows.map((r) => r.id))).map((j) => [j?.state, j?.group]);
        assert.deepEqual(await states(), [['completed', g(1)], ['dead', g(2)], ['cancelled', g(3)], ['dead', g(4)], ['ready', g(5)]]);
        for (const [n, state] of [[1, 'completed'], [2, 'dead'], [3, 'cancelled'], [4, 'dead']] as const) {
          assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10, group: g(n) })).map((j) => [j.id, j.state]), [[jobId(n), state]]);
          assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10, group: g(n), state })).map((j) => j.id), [jobId(n)]);
        }
        await store.jobsRetry([jobId(2), jobId(3), jobId(4)], T + 1001);
        const claimed = await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T + 1002 });
        assert.deepEqual(claimed.map((j) => [j.id, j.group]), [5, 2, 3, 4].map((n) => [jobId(n), g(n)]), 'retried, in claim order');
        assert.deepEqual((await getJob(store, jobId(1))).group, g(1), 'the completed job keeps it');
      }));
  });
}
