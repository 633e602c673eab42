import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, JobNotFoundError, JobTimeoutError, PayloadTooLargeError, StaleLeaseError } from '../../core/errors.ts';
import type { JobState } from '../../core/job.ts';
import type { RunningJob } from '../../worker/worker.ts';
import { withHarness, type HarnessTarget } from './harness.ts';
import { deferred, waitFor } from './worker.ts';

/** Resolves when `signal` aborts, with its reason. */
function abortReason(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));
}

/** A job's execution timeout, its progress and its log: what a handler records while it runs. */
export function jobFeaturesSuite(target: HarnessTarget): void {
  describe('job timeout, progress and log', () => {
    it('an attempt past its timeoutMs is aborted with JobTimeoutError and fails; the late result is ignored', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        const q = api.queue('q');
        await q.configure({ visibilityTimeoutMs: 60_000, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 0 } });
        const reasons: unknown[] = [];
        const release = deferred();
        const failed: [unknown, JobState][] = [];
        let starts = 0;
        const worker = q.work(async (_job, { signal }) => {
          starts++; // the handler runs: its deadline timer is set (the store says active a little earlier)
          reasons.push(await abortReason(signal));
          await release.promise; // a handler that finishes long after its signal: its result must not count
          return 'late';
        });
        worker.on('failed', (_job, err, state) => failed.push([err, state]));
        const job = await q.add('slow', { timeoutMs: 1000 });
        assert.equal(job.timeoutMs, 1000);
        await waitFor(() => starts === 1, 20_000, 'the first attempt');
        await clock.advance(999);
        await settled();
        assert.equal(reasons.length, 0, 'not a millisecond early');
        await clock.advance(1);
        await waitFor(() => failed.length === 1, 20_000, 'the timed-out attempt to fail');
        assert.ok((reasons[0] as Error) instanceof JobTimeoutError, `the signal's reason: ${String(reasons[0])}`);
        assert.equal((reasons[0] as JobTimeoutError).code, 'TIMEOUT');
        assert.ok((failed[0]![0] as Error) instanceof JobTimeoutError);
        const afterFirst = await api.get(job.id);
        assert.match(afterFirst.history[0]!.error!, /timeout: job .* ran longer than its timeoutMs of 1000 ms/);
        assert.equal(afterFirst.history[0]!.outcome, 'failed');

        // The slot was freed: the retry runs while the first handler is still stuck.
        await waitFor(() => starts === 2, 20_000, 'the retry to start');
        assert.equal(worker.running, 1, 'the stuck first handler holds no slot');
        await settled();
        await clock.advance(1000);
        await waitFor(() => failed.length === 2, 20_000, 'the second attempt to time out');
        assert.equal(failed[1]![1], 'dead');
        release.resolve(); // both handlers return now: neither result is stored
        await settled();
        const dead = await api.get(job.id);
        assert.deepEqual([dead.state, dead.result, dead.attempt], ['dead', null, 2]);
        assert.match(dead.lastError!, /^(JobTimeoutError: )?timeout: /);
      }));

    it("the queue's timeoutMs applies to jobs that give none; a job's own (0: no limit) wins", () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        await q.configure({ timeoutMs: 5000 });
        assert.equal((await q.config()).timeoutMs, 5000);
        assert.equal((await q.add(1)).timeoutMs, 5000);
        assert.equal((await q.add(2, { timeoutMs: 0 })).timeoutMs, 0);
        const [a, b] = await q.addMany([{ payload: 3 }, { payload: 4, timeoutMs: 250 }]);
        assert.deepEqual([a!.timeoutMs, b!.timeoutMs], [5000, 250]);
        assert.equal((await api.get(b!.id)).timeoutMs, 250, 'as stored');
        assert.equal((await api.queue('plain').add(1)).timeoutMs, 0, 'no limit by default');
        await assert.rejects(q.add(5, { timeoutMs: -1 }), InvalidArgumentError);
        await assert.rejects(q.configure({ timeoutMs: 8 * 24 * 3600_000 }), /timeoutMs must be at most/);
      }));

    it('a handler stores progress and log lines while it runs; both stay with the finished job', () =>
      withHarness(target, async ({ api, settled }) => {
        const q = api.queue('q');
        const finish = deferred();
        const reported = deferred();
        const events: unknown[] = [];
        const worker = q.work(async (job: RunningJob) => {
          await job.updateProgress({ done: 1, of: 3 });
          await job.log('fetched page 1');
          await job.updateProgress({ done: 2, of: 3 });
          await job.log('fetched page 2\nwith a second line');
          reported.resolve();
          await finish.promise;
          return 'ok';
        });
        worker.on('progress', (_job, value) => events.push(value));
        const job = await q.add('crawl');
        await reported.promise;
        const running = await api.get(job.id);
        assert.equal(running.state, 'active');
        assert.deepEqual(running.progress, { done: 2, of: 3 }, 'the last value replaces the first');
        assert.deepEqual((await q.list({ state: 'active' }))[0]!.progress, { done: 2, of: 3 });
        assert.deepEqual(events, [{ done: 1, of: 3 }, { done: 2, of: 3 }]);
        finish.resolve();
        await waitFor(async () => (await api.get(job.id)).state === 'completed', 20_000, 'completion');
        await settled();
        const done = await api.get(job.id);
        assert.deepEqual(done.progress, { done: 2, of: 3 });
        const lines = await api.logs(job.id);
        assert.deepEqual(lines.map((l) => [l.attempt, l.line]), [[1, 'fetched page 1'], [1, 'fetched page 2\nwith a second line']]);
        assert.ok(lines.every((l) => Number.isInteger(l.at)));
        assert.deepEqual(await api.logs((await api.queue('quiet').add('x')).id), [], 'a job with no lines');
        await assert.rejects(api.logs('01900000-0000-7000-8000-000000000000'), JobNotFoundError);
      }));

    it('a job keeps its last jobLogMax lines, each cut to jobLogLineMaxBytes; progress over progressMaxBytes is refused', () =>
      withHarness(
        target,
        async ({ api, spool }) => {
          const q = api.queue('q');
          const job = await q.add('x');
          const [claimed] = await spool.claim('q', 1);
          const lease = { jobId: claimed!.id, token: claimed!.leaseToken };
          for (let i = 1; i <= 5; i++) await api.report(lease, { logs: [`line ${i}`] });
          await api.report(lease, { logs: ['a'.repeat(200), 'bad \u0000 byte'] });
          const lines = (await api.logs(job.id)).map((l) => l.line);
          assert.equal(lines.length, 3, 'the last three');
          assert.equal(lines[0], 'line 5');
          assert.ok(Buffer.byteLength(lines[1]!) <= 64 + 3 && lines[1]!.endsWith('…'), `cut: ${lines[1]}`);
          assert.equal(lines[2], 'bad \ufffd byte', 'a line is never refused for its text');
          await assert.rejects(api.report(lease, { progress: 'p'.repeat(300) }), (e: Error) => e instanceof PayloadTooLargeError && e.field === 'progress');
          await assert.rejects(api.report(lease, { progres: 1 } as never), (e: Error) => e instanceof InvalidArgumentError && /did you mean "progress"/.test(e.message));
          await assert.rejects(api.report(lease, {}), InvalidArgumentError);
          await api.report(lease, { progress: 0.5 });
          assert.equal((await api.get(job.id)).progress, 0.5);
        },
        { jobLogMax: 3, jobLogLineMaxBytes: 64, progressMaxBytes: 256 },
      ));

    it('a lost lease cannot report: cancelled, progress and log are refused with STALE_LEASE and change nothing', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        const job = await q.add('x');
        const [claimed] = await spool.claim('q', 1);
        const lease = { jobId: claimed!.id, token: claimed!.leaseToken };
        await api.report(lease, { progress: 1, logs: ['mine'] });
        await api.cancel(job.id);
        await assert.rejects(api.report(lease, { progress: 2 }), (e: Error) => e instanceof StaleLeaseError && e.currentState === 'cancelled');
        await assert.rejects(api.report(lease, { logs: ['late'] }), StaleLeaseError);
        await assert.rejects(api.report({ jobId: job.id, token: lease.token + 1 }, { progress: 3 }), StaleLeaseError);
        assert.equal((await api.get(job.id)).progress, 1);
        assert.deepEqual((await api.logs(job.id)).map((l) => l.line), ['mine']);
        await api.deleteJob(job.id);
        await assert.rejects(api.logs(job.id), JobNotFoundError, 'the log is deleted with its job');
      }));
  });
}
