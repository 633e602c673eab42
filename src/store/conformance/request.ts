import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, JobFailedError, JobNotFoundError, JobWaitTimeoutError, UnrecoverableError } from '../../core/errors.ts';
import { withHarness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';

/** Whether `p` has settled yet, without waiting for it. */
function tracker<T>(p: Promise<T>): { done: () => boolean; result: Promise<T | unknown> } {
  let done = false;
  const result = p.then((v) => ((done = true), v), (err: unknown) => ((done = true), err));
  return { done: () => done, result };
}

/** Request/reply (`request()`, `waitJob()`): the result of the job, correlated by its id; timeouts say whether it started. */
export function requestSuite(target: HarnessTarget): void {
  describe('request/reply', () => {
    it('resolves with the result of its own job, for many requests at once', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue<{ i: number }>('q');
        // Out of order: each request must still get its own job's result.
        q.work(async (job) => ({ doubled: job.payload.i * 2 }), { concurrency: 7 });
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => q.request<{ doubled: number }>({ i }, { timeoutMs: 60_000 })));
        assert.deepEqual(results.map((r) => r.doubled), Array.from({ length: 40 }, (_, i) => i * 2));
        assert.equal((await q.stats()).counts.completed, 40);
      }));

    it('rejects with a JobFailedError carrying the last error when the job goes dead', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        q.work(async () => {
          throw new UnrecoverableError('card declined');
        });
        const err = await q.request({ n: 1 }, { timeoutMs: 60_000 }).catch((e: unknown) => e);
        assert.ok(err instanceof JobFailedError, String(err));
        assert.equal(err.code, 'JOB_FAILED');
        assert.equal(err.state, 'dead');
        assert.match(err.error ?? '', /card declined/);
        assert.equal((await h.api.get(err.jobId)).state, 'dead');
      }));

    it('rejects with a JobFailedError when the job is cancelled; waitJob answers the cancelled job', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const request = tracker(q.request({ n: 1 }, { timeoutMs: 60_000 }));
        const waited = await q.add({ n: 2 });
        const wait = tracker(h.api.waitJob(waited.id, { timeoutMs: 60_000 }));
        await h.settled();
        const [requested] = (await q.list({ state: 'ready' })).filter((j) => j.id !== waited.id);
        assert.equal(request.done(), false);
        await h.api.cancel(requested!.id);
        await h.api.cancel(waited.id);
        const err = await request.result;
        assert.ok(err instanceof JobFailedError, String(err));
        assert.deepEqual([err.jobId, err.state, err.error], [requested!.id, 'cancelled', null]);
        assert.equal(((await wait.result) as { state: string }).state, 'cancelled');
      }, { maintenance: false }));

    it('times out saying the job had not started, and leaves it to run', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const request = tracker(q.request({ n: 1 }, { timeoutMs: 5000, add: { priority: 3 } }));
        await h.settled();
        await h.clock.advance(4999);
        await h.settled();
        assert.equal(request.done(), false);
        await h.clock.advance(1);
        await h.settled();
        const err = await request.result;
        assert.ok(err instanceof JobWaitTimeoutError, String(err));
        assert.equal(err.code, 'JOB_WAIT_TIMEOUT');
        assert.deepEqual([err.started, err.state, err.timeoutMs], [false, 'ready', 5000]);
        const job = await h.api.get(err.jobId);
        assert.deepEqual([job.state, job.priority], ['ready', 3], 'not cancelled; the add options were applied');
      }, { maintenance: false }));

    it('times out saying the job had started when a worker holds it', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const request = tracker(q.request({ n: 1 }, { timeoutMs: 5000 }));
        await h.settled();
        const [job] = await h.spool.claim('q', 1);
        await h.clock.advance(5000);
        await h.settled();
        const err = await request.result;
        assert.ok(err instanceof JobWaitTimeoutError, String(err));
        assert.deepEqual([err.jobId, err.started, err.state], [job!.id, true, 'active']);
        assert.match(err.message, /did not finish within 5000 ms: it is active \(started\); it was not cancelled/);
        // The job finishes later all the same, and a new wait gets it.
        await h.api.ack(lease(job!), { late: true });
        assert.deepEqual((await h.api.waitJob(job!.id, { timeoutMs: 0 })).result, { late: true });
      }, { maintenance: false }));

    it('waitJob: resolves when another caller acks the job; JobNotFoundError for a deleted job', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const a = await q.add({ n: 1 });
        const wait = tracker(h.api.waitJob(a.id, { timeoutMs: 60_000 }));
        await h.settled();
        const [job] = await h.spool.claim('q', 1);
        await h.settled();
        assert.equal(wait.done(), false, 'an active job has not finished');
        await h.spool.ack(lease(job!), 7);
        assert.equal(((await wait.result) as { result: unknown }).result, 7);
        const b = await q.add({ n: 2 });
        const gone = tracker(h.api.waitJob(b.id, { timeoutMs: 60_000 }));
        await h.settled();
        await h.api.deleteJob(b.id);
        assert.ok((await gone.result) instanceof JobNotFoundError);
      }, { maintenance: false }));

    it('ends when its signal aborts; bad options are refused naming the option', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const abort = new AbortController();
        const request = tracker(q.request({ n: 1 }, { signal: abort.signal }));
        await h.settled();
        abort.abort(new Error('enough'));
        assert.equal(((await request.result) as Error).message, 'enough');
        await assert.rejects(q.request(1, { timeoutMs: -1 }), (err: Error) => err instanceof InvalidArgumentError && err.field === 'timeoutMs');
        await assert.rejects(q.request(1, { timeoutMs: 3_600_001 }), /timeoutMs must be at most 3600000/);
        await assert.rejects(q.request(1, { timeout: 5 } as never), /request: unknown option "timeout"; did you mean "timeoutMs"\?/);
        await assert.rejects(q.request(1, { add: { priorty: 1 } } as never), /unknown add option "priorty"; did you mean "priority"\?/);
      }, { maintenance: false }));
  });
}
