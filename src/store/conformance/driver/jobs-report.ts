import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpoolError } from '../../../core/errors.ts';
import type { Job, JobLogLine, Lease } from '../../../core/job.ts';
import type { LeaseResult, Store } from '../../store.ts';
import { getJob, insertAndClaim, jobId, leaseOf, newRow, storedJob, T, withStore, type DriverContext } from './harness.ts';

/** Log line `n`: written at T + n by attempt `attempt`. */
const line = (n: number, attempt = 1): JobLogLine => ({ at: T + n, attempt, line: `line ${n}` });
const lines = (...ns: number[]): JobLogLine[] => ns.map((n) => line(n));

/** The log lines of a job that must exist; fails the test if the store knows no such job. */
async function logsOf(store: Store, id: string): Promise<JobLogLine[]> {
  const logs = await store.jobLogs(id);
  assert.ok(logs !== null, `job ${id} has a log`);
  return logs;
}

/** What a job carries along whatever happens to it: its timeout, progress and log lines. */
async function carried(store: Store, id: string): Promise<{ timeoutMs: number; progress: unknown; logs: JobLogLine[] | null }> {
  const job = await getJob(store, id);
  return { timeoutMs: job.timeoutMs, progress: job.progress, logs: await store.jobLogs(id) };
}

/** Reports `progress` and `logs` for one lease, keeping `keep` lines. */
const report = (store: Store, lease: Lease, now: number, over: { progress?: string; logs?: JobLogLine[] }, keep = 100): Promise<LeaseResult[]> =>
  store.jobsReport([{ lease, ...over }], now, keep);

/** jobsReport and jobLogs; the timeout, progress and lines a job keeps through every move and loses with it. */
export function reportArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('timeout, progress and log lines', () => {
    it('timeoutMs is stored as given and read back by get, list and claim', { skip }, () =>
      withStore(ctx, async (store) => {
        const rows = [newRow(1, { timeoutMs: 30_000 }), newRow(2), newRow(3, { timeoutMs: 7 * 24 * 3_600_000 })];
        await store.jobsInsertMany(rows.slice(0, 2));
        assert.deepEqual(await store.jobsInsertEach(rows.slice(2)), [{ ok: true }]);
        assert.deepEqual(await store.jobsGet(rows.map((r) => r.id)), rows.map(storedJob));
        assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10 })).map((j) => j.timeoutMs), [30_000, 0, 7 * 24 * 3_600_000]);
        const claimed = await store.jobsClaim({ queue: 'q', limit: 3, leaseMs: 1000, now: T });
        assert.deepEqual(claimed.map((j) => [j.id, j.timeoutMs, j.progress]), [[jobId(1), 30_000, null], [jobId(2), 0, null], [jobId(3), 7 * 24 * 3_600_000, null]]);
      }));

    it('report with the held lease: progress replaces the last one, lines are appended in order, updatedAt is now, nothing else changes', { skip }, () =>
      withStore(ctx, async (store) => {
        const [job] = await insertAndClaim(store, [newRow(1, { timeoutMs: 5000 })]);
        assert.deepEqual(await store.jobLogs(job!.id), [], 'no lines yet');
        assert.deepEqual(await report(store, leaseOf(job!), T + 5, { progress: '{"pct":10,"msg":"ü"}', logs: lines(1, 2) }), [{ ok: true }]);
        assert.deepEqual(await getJob(store, job!.id), { ...job!, progress: { pct: 10, msg: 'ü' }, updatedAt: T + 5 });
        assert.deepEqual(await logsOf(store, job!.id), lines(1, 2));

        assert.deepEqual(await report(store, leaseOf(job!), T + 6, { progress: '[1,"two",null]' }), [{ ok: true }]);
        assert.deepEqual(await getJob(store, job!.id), { ...job!, progress: [1, 'two', null], updatedAt: T + 6 });
        assert.deepEqual(await logsOf(store, job!.id), lines(1, 2), 'progress alone leaves the lines');

        assert.deepEqual(await report(store, leaseOf(job!), T + 7, { logs: [line(3, 1), { at: T + 4, attempt: 1, line: '' }] }), [{ ok: true }]);
        assert.deepEqual(await getJob(store, job!.id), { ...job!, progress: [1, 'two', null], updatedAt: T + 7 }, 'lines alone leave the progress');
        assert.deepEqual(await logsOf(store, job!.id), [...lines(1, 2, 3), { at: T + 4, attempt: 1, line: '' }]);

        assert.deepEqual(await report(store, leaseOf(job!), T + 8, { progress: '"done"' }), [{ ok: true }]);
        assert.deepEqual(await report(store, leaseOf(job!), T + 9, {}), [{ ok: true }], 'an empty report is applied too');
        assert.deepEqual(await getJob(store, job!.id), { ...job!, progress: 'done', updatedAt: T + 9 });
        assert.deepEqual(await store.jobsReport([], T, 10), []);
      }));

    it('keepLogs keeps the newest lines, across calls and within one call; 0 keeps none', { skip }, () =>
      withStore(ctx, async (store) => {
        const [job] = await insertAndClaim(store, [newRow(1)]);
        const lease = leaseOf(job!);
        await report(store, lease, T + 1, { logs: lines(1, 2) }, 3);
        assert.deepEqual(await logsOf(store, job!.id), lines(1, 2));
        await report(store, lease, T + 2, { logs: lines(3, 4) }, 3);
        assert.deepEqual(await logsOf(store, job!.id), lines(2, 3, 4), 'the oldest line dropped');
        await report(store, lease, T + 3, { logs: lines(5, 6, 7, 8, 9) }, 3);
        assert.deepEqual(await logsOf(store, job!.id), lines(7, 8, 9), 'more lines in one call than are kept: the newest of them');
        await report(store, lease, T + 4, { progress: '1' }, 2);
        assert.deepEqual(await logsOf(store, job!.id), lines(8, 9), 'a smaller keepLogs trims even a report without lines');
        // Two items of one call for the same lease: both apply, in order.
        const both = await store.jobsReport([{ lease, logs: lines(10) }, { lease, logs: lines(11, 12), progress: '2' }, { lease, progress: '3' }], T + 5, 4);
        assert.deepEqual(both, [{ ok: true }, { ok: true }, { ok: true }]);
        assert.deepEqual(await logsOf(store, job!.id), lines(9, 10, 11, 12));
        assert.equal((await getJob(store, job!.id)).progress, 3, 'the last progress of the call');
        await report(store, lease, T + 6, { logs: lines(13) }, 0);
        assert.deepEqual(await logsOf(store, job!.id), []);
      }));

    it('a lease not held changes nothing and gets the same miss as an extend: the job\'s state and token now', { skip }, () =>
      withStore(ctx, async (store) => {
        const [job, done, cancelled] = await insertAndClaim(store, [newRow(1), newRow(2), newRow(3)]);
        await store.jobsInsertMany([newRow(4)]);
        await report(store, leaseOf(job!), T + 1, { progress: '1', logs: lines(1) });
        await store.jobsComplete([{ lease: leaseOf(done!), result: null }], T + 1);
        await store.jobsCancel([cancelled!.id], T + 1);
        const before = await store.jobsGet([jobId(1), jobId(2), jobId(3), jobId(4)]);
        const stale: [Lease, string][] = [
          ...[0, 2, 99].map((token): [Lease, string] => [{ jobId: job!.id, token }, `token ${token}`]),
          [leaseOf(done!), 'a completed job'], [leaseOf(cancelled!), 'a cancelled job'],
          [{ jobId: jobId(4), token: 0 }, 'a job never leased'], [{ jobId: jobId(9), token: 1 }, 'an unknown job'],
        ];
        for (const [lease, what] of stale) {
          const missed = await report(store, lease, T + 2, { progress: '2', logs: lines(2) });
          assert.deepEqual(missed, await store.jobsExtend([{ lease, leaseMs: 1000 }], T + 2), `${what}: as an extend`);
          assert.equal(missed[0]!.ok, false, what);
        }
        assert.deepEqual(await report(store, { jobId: job!.id, token: 2 }, T + 2, {}), [{ ok: false, state: 'active', token: 1 }]);
        assert.deepEqual(await report(store, leaseOf(done!), T + 2, {}), [{ ok: false, state: 'completed', token: 1 }]);
        assert.deepEqual(await report(store, leaseOf(cancelled!), T + 2, {}), [{ ok: false, state: 'cancelled', token: 1 }]);
        assert.deepEqual(await report(store, { jobId: jobId(9), token: 1 }, T + 2, {}), [{ ok: false, state: null, token: null }]);
        assert.deepEqual(await store.jobsGet([jobId(1), jobId(2), jobId(3), jobId(4)]), before);
        assert.deepEqual([await store.jobLogs(jobId(1)), await store.jobLogs(jobId(2)), await store.jobLogs(jobId(3))], [lines(1), [], []]);

        // In one call, held and stale leases (even two leases of one job): each item its own result, in order.
        const mixed = await store.jobsReport([
          { lease: { jobId: job!.id, token: 0 }, logs: lines(3) }, { lease: leaseOf(job!), logs: lines(4) }, { lease: leaseOf(done!), logs: lines(5) },
        ], T + 3, 10);
        assert.deepEqual(mixed, [{ ok: false, state: 'active', token: 1 }, { ok: true }, { ok: false, state: 'completed', token: 1 }]);
        assert.deepEqual([await store.jobLogs(jobId(1)), await store.jobLogs(jobId(2))], [lines(1, 4), []]);
      }));

    it('an item the database refuses fails alone, with its error and the lease still held; the others apply', { skip }, () =>
      withStore(ctx, async (store) => {
        const [a, b, c] = await insertAndClaim(store, [newRow(1), newRow(2), newRow(3)]);
        // Progress must be JSON text: text that is not is data no store can hold.
        const results = await store.jobsReport([
          { lease: leaseOf(a!), progress: '1', logs: lines(1) },
          { lease: leaseOf(b!), progress: '{"unclosed":', logs: lines(2) },
          { lease: leaseOf(c!), progress: '3', logs: lines(3) },
        ], T + 5, 10);
        assert.deepEqual(results.map((r) => r.ok), [true, false, true]);
        const miss = results[1] as { ok: false; state: null; token: null; error?: Error };
        assert.deepEqual([miss.state, miss.token], [null, null]);
        assert.ok(miss.error instanceof SpoolError, `a SpoolError, not ${miss.error?.constructor?.name}: ${miss.error?.message}`);
        assert.match(miss.error.message, new RegExp(b!.id));
        assert.deepEqual((await store.jobsGet([a!.id, b!.id, c!.id])).map((j) => j?.progress), [1, null, 3]);
        assert.deepEqual(await getJob(store, b!.id), b!, 'the refused item changed nothing');
        assert.deepEqual([await store.jobLogs(a!.id), await store.jobLogs(b!.id), await store.jobLogs(c!.id)], [lines(1), [], lines(3)]);
        assert.deepEqual(await report(store, leaseOf(b!), T + 6, { progress: '2' }), [{ ok: true }], 'the lease of the refused item still holds');

        // U+0000 in a line: a store keeps it exactly, or refuses that item alone (PostgreSQL's jsonb cannot hold it).
        const nul = { at: T + 7, attempt: 1, line: 'a\u0000b' };
        const [withNul, after] = await store.jobsReport([{ lease: leaseOf(a!), logs: [nul] }, { lease: leaseOf(c!), logs: lines(4) }], T + 7, 10);
        assert.deepEqual(after, { ok: true });
        if (withNul!.ok) assert.deepEqual(await store.jobLogs(a!.id), [line(1), nul]);
        else {
          assert.ok(withNul!.error instanceof SpoolError, `refused with a SpoolError, not ${String(withNul!.error)}`);
          assert.deepEqual(await store.jobLogs(a!.id), [line(1)]);
        }
        assert.deepEqual(await store.jobLogs(c!.id), lines(3, 4));
      }));

    it('jobLogs: null for an id no job has, [] for a job without lines, live or finished', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.equal(await store.jobLogs(jobId(1)), null);
        const [job] = await insertAndClaim(store, [newRow(1), newRow(2)], 1);
        assert.deepEqual([await store.jobLogs(job!.id), await store.jobLogs(jobId(2))], [[], []]);
        await store.jobsComplete([{ lease: leaseOf(job!), result: null }], T + 1);
        assert.deepEqual(await store.jobLogs(job!.id), []);
      }));

    it('timeout, progress and lines go with the job wherever it goes: complete, fail, dead, reap, cancel, retry', { skip }, () =>
      withStore(ctx, async (store) => {
        const rows = [
          newRow(1, { timeoutMs: 1000 }), newRow(2, { timeoutMs: 2000, maxAttempts: 2 }), newRow(3, { timeoutMs: 3000 }),
          newRow(4, { timeoutMs: 4000, maxStalls: 1 }), newRow(5, { timeoutMs: 5000, maxStalls: 5 }),
        ];
        const jobs = await insertAndClaim(store, rows);
        for (const [i, job] of jobs.entries()) {
          assert.deepEqual(await report(store, leaseOf(job), T + 1, { progress: String(i + 1), logs: [line(i + 1)] }), [{ ok: true }]);
        }
        const has = (n: number, logs = [line(n)]) => ({ timeoutMs: n * 1000, progress: n, logs });
        const [completed, failed, cancelled] = jobs as [Job, Job, Job];
        await store.jobsComplete([{ lease: leaseOf(completed), result: '"ok"' }], T + 2);
        await store.jobsFail([{ lease: leaseOf(failed), error: 'again', retryAt: T + 2, unrecoverable: false }], T + 2);
        await store.jobsCancel([cancelled.id], T + 2);
        await store.jobsReapExpired({ now: T + 1000, limit: 10 });
        assert.deepEqual((await store.jobsGet(jobs.map((j) => j.id))).map((j) => j?.state), ['completed', 'ready', 'cancelled', 'dead', 'ready']);
        for (const n of [1, 2, 3, 4, 5]) assert.deepEqual(await carried(store, jobId(n)), has(n), `job ${n}`);
        assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10 })).map((j) => [j.timeoutMs, j.progress]), [1, 2, 3, 4, 5].map((n) => [n * 1000, n]));

        // Job 2 runs again (its progress and lines from before are there) and fails for good; then it is retried.
        const [again] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 1000, now: T + 1000 });
        assert.deepEqual([again!.id, again!.timeoutMs, again!.progress], [jobId(2), 2000, 2]);
        await store.jobsReport([{ lease: leaseOf(again!), logs: [line(6, 2)] }], T + 1001, 100);
        await store.jobsFail([{ lease: leaseOf(again!), error: 'no', retryAt: T + 1001, unrecoverable: false }], T + 1001);
        assert.equal((await getJob(store, jobId(2))).state, 'dead');
        assert.deepEqual(await carried(store, jobId(2)), has(2, [line(2), line(6, 2)]));
        await store.jobsRetry([jobId(2), jobId(3), jobId(4)], T + 1002);
        assert.deepEqual((await store.jobsGet([jobId(2), jobId(3), jobId(4)])).map((j) => j?.state), ['ready', 'ready', 'ready']);
        assert.deepEqual(await carried(store, jobId(2)), has(2, [line(2), line(6, 2)]));
        for (const n of [3, 4]) assert.deepEqual(await carried(store, jobId(n)), has(n), `job ${n} retried`);
        const claimed = await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T + 1003 });
        assert.deepEqual(claimed.map((j) => [j.id, j.timeoutMs, j.progress]), [5, 2, 3, 4].map((n) => [jobId(n), n * 1000, n]), 'in claim order');
      }));

    it('progress and lines are deleted with their job: by delete, purge, retention and queue delete', { skip }, () =>
      withStore(ctx, async (store) => {
        const jobs = await insertAndClaim(store, [1, 2, 3, 4, 5, 6].map((n) => newRow(n, { queue: n === 6 ? 'gone' : 'q' })), 5);
        const [gone] = await insertAndClaim(store, [], 1, T, 1000, 'gone');
        for (const job of [...jobs, gone!]) await report(store, leaseOf(job), T + 1, { progress: '1', logs: lines(1, 2) });
        const [deleted, purged, retained, deletedFinished] = jobs as [Job, Job, Job, Job, Job];
        await store.jobsRelease([leaseOf(deleted), leaseOf(purged)], T + 2);
        await store.jobsComplete([{ lease: leaseOf(retained), result: null }, { lease: leaseOf(deletedFinished), result: null }], T + 2);
        assert.deepEqual(await store.jobsDelete([deleted.id, deletedFinished.id], T + 3), [
          { found: true, queue: 'q', previous: 'ready', deleted: true }, { found: true, queue: 'q', previous: 'completed', deleted: true },
        ]);
        assert.equal(await store.jobsPurge({ queue: 'q', limit: 10 }), 1);
        assert.equal(await store.jobsDeleteFinished({ before: { completed: T + 3, dead: T + 3, cancelled: T + 3 }, limit: 10 }), 1);
        assert.equal((await store.queueDelete({ name: 'gone', force: true, limit: 10 }, T + 3)).deleted, true);
        const ids = [deleted.id, purged.id, retained.id, deletedFinished.id, gone!.id];
        assert.deepEqual(await Promise.all(ids.map((id) => store.jobLogs(id))), [null, null, null, null, null]);
        assert.deepEqual(await store.jobsGet(ids), [null, null, null, null, null]);
        assert.deepEqual(await carried(store, jobs[4]!.id), { timeoutMs: 0, progress: 1, logs: lines(1, 2) }, 'the job left alone keeps them');
        // A job added again with one of those ids starts with nothing: no progress or line of the deleted one is left behind.
        const again = [1, 2, 3, 4, 6].map((n) => newRow(n, { queue: 'q2', createdAt: T + 4 }));
        await store.jobsInsertMany(again);
        assert.deepEqual(await store.jobsGet(ids), again.map(storedJob));
        assert.deepEqual(await Promise.all(ids.map((id) => store.jobLogs(id))), [[], [], [], [], []]);
      }));
  });
}
