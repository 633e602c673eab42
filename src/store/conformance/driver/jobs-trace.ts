import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job, JobTrace } from '../../../core/job.ts';
import { getJob, insertAndClaim, jobId, leaseOf, newRow, storedJob, T, withStore, type DriverContext } from './harness.ts';

const TRACEPARENT = (n: number): string => `00-4bf92f3577b34da6a3ce929d0e0e47${n.toString(16).padStart(2, '0')}-00f067aa0ba902b7-01`;
/** Job `n`'s trace context: a tracestate on the odd ones, so both shapes are kept. */
const traceOf = (n: number): JobTrace => (n % 2 === 1 ? { traceparent: TRACEPARENT(n), tracestate: `spool=${n},other=x` } : { traceparent: TRACEPARENT(n) });
/** Job `n`'s new row, carrying its trace context as the engine writes it (JSON text). */
const tracedRow = (n: number, over: Parameters<typeof newRow>[1] = {}) => newRow(n, { trace: JSON.stringify(traceOf(n)), ...over });

/** The trace context a job is added with: stored as given, read back by every read, kept through every move. */
export function traceArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('trace context', () => {
    it('is stored as given (or null) and read back by get, list and claim', { skip }, () =>
      withStore(ctx, async (store) => {
        const rows = [tracedRow(1), newRow(2), tracedRow(3), tracedRow(4)];
        await store.jobsInsertMany(rows.slice(0, 3));
        assert.deepEqual(await store.jobsInsertEach(rows.slice(3)), [{ ok: true }]);
        assert.deepEqual(await store.jobsGet(rows.map((r) => r.id)), rows.map(storedJob));
        const expected = [traceOf(1), null, traceOf(3), traceOf(4)];
        assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10 })).map((j) => j.trace), expected);
        assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10, state: 'ready', name: 'default' })).map((j) => j.trace), expected);
        const claimed = await store.jobsClaim({ queue: 'q', limit: 4, leaseMs: 1000, now: T });
        assert.deepEqual(claimed.map((j) => [j.id, j.trace]), [1, 2, 3, 4].map((n, i) => [jobId(n), expected[i]]));
      }));

    it('goes with the job wherever it goes: complete, fail, dead, reap, cancel, retry', { skip }, () =>
      withStore(ctx, async (store) => {
        const rows = [tracedRow(1), tracedRow(2, { maxAttempts: 1 }), tracedRow(3), tracedRow(4, { maxStalls: 1 }), tracedRow(5, { maxStalls: 5 })];
        const jobs = await insertAndClaim(store, rows);
        const [completed, dead, cancelled] = jobs as [Job, Job, Job];
        await store.jobsComplete([{ lease: leaseOf(completed), result: '"ok"' }], T + 1);
        await store.jobsFail([{ lease: leaseOf(dead), error: 'no', retryAt: T + 1, unrecoverable: false }], T + 1);
        await store.jobsCancel([cancelled.id], T + 1);
        await store.jobsReapExpired({ now: T + 1000, limit: 10 }); // job 4 dies of its stall, job 5 is ready again
        const states = async () => (await store.jobsGet(rows.map((r) => r.id))).map((j) => [j?.state, j?.trace]);
        assert.deepEqual(await states(), [['completed', traceOf(1)], ['dead', traceOf(2)], ['cancelled', traceOf(3)], ['dead', traceOf(4)], ['ready', traceOf(5)]]);
        assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10, state: 'dead' })).map((j) => j.trace), [traceOf(2), traceOf(4)]);
        await store.jobsRetry([jobId(2), jobId(3), jobId(4)], T + 1001);
        const claimed = await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T + 1002 });
        assert.deepEqual(claimed.map((j) => [j.id, j.trace]), [5, 2, 3, 4].map((n) => [jobId(n), traceOf(n)]), 'retried, in claim order');
        assert.deepEqual((await getJob(store, jobId(1))).trace, traceOf(1), 'the completed job keeps it');
      }));
  });
}
