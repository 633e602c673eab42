import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DrainTimeoutError, InvalidArgumentError, QueueNotFoundError } from '../../core/errors.ts';
import { withHarness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';

/** Whether `p` has settled yet, without waiting for it. */
function tracker(p: Promise<unknown>): { done: () => boolean; result: Promise<unknown> } {
  let done = false;
  const result = p.then((v) => ((done = true), v), (err: unknown) => ((done = true), err));
  return { done: () => done, result };
}

/** `queue.drained()`: resolves once nothing is ready, scheduled or active; bounded by its timeoutMs. */
export function drainedSuite(target: HarnessTarget): void {
  describe('queue.drained()', () => {
    it('resolves after the last job is settled, not before', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.add({ n: 1 });
        await q.add({ n: 2 }, { delayMs: 1000 });
        const wait = tracker(q.drained({ timeoutMs: 60_000 }));
        await h.settled();
        const [first] = await h.spool.claim('q', 1);
        await h.api.ack(lease(first!));
        await h.settled();
        assert.equal(wait.done(), false, 'a scheduled job is still to run');
        await h.clock.advance(1000);
        const [second] = await h.spool.claim('q', 1);
        await h.settled();
        assert.equal(wait.done(), false, 'an active job is still running');
        await h.api.nack(lease(second!), 'no', { unrecoverable: true }); // dead counts as finished
        assert.equal(await wait.result, undefined);
      }, { maintenance: false }));

    it('resolves at once for a queue with nothing left; QueueNotFoundError for a queue that does not exist', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const job = await q.add({ n: 1 });
        await h.api.cancel(job.id);
        await q.drained({ timeoutMs: 0 });
        await assert.rejects(h.api.queue('nope').drained(), QueueNotFoundError);
      }));

    it('fails with a DrainTimeoutError saying what is left when timeoutMs runs out', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.add({ n: 1 });
        await q.add({ n: 2 });
        await h.spool.claim('q', 1);
        const wait = tracker(q.drained({ timeoutMs: 5000 }));
        await h.settled();
        await h.clock.advance(4999);
        await h.settled();
        assert.equal(wait.done(), false);
        await h.clock.advance(1);
        await h.settled();
        const err = await wait.result;
        assert.ok(err instanceof DrainTimeoutError, String(err));
        assert.equal(err.code, 'DRAIN_TIMEOUT');
        assert.equal(err.message, 'queue "q" was not drained within 5000 ms: 1 ready, 0 scheduled, 1 active');
        assert.deepEqual([err.queue, err.timeoutMs, err.left], ['q', 5000, { ready: 1, scheduled: 0, active: 1 }]);
      }, { maintenance: false }));

    it('ends when its signal aborts; bad options are refused naming the option', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.add({ n: 1 });
        const abort = new AbortController();
        const wait = tracker(q.drained({ signal: abort.signal }));
        await h.settled();
        abort.abort(new Error('enough'));
        assert.equal(((await wait.result) as Error).message, 'enough');
        await assert.rejects(q.drained({ timeoutMs: -1 }), (err: Error) => err instanceof InvalidArgumentError && err.field === 'timeoutMs');
        await assert.rejects(q.drained({ timeoutMs: 3_600_001 }), /timeoutMs must be at most 3600000/);
        await assert.rejects(q.drained({ timeout: 5 } as never), /drained: unknown option "timeout"; did you mean "timeoutMs"\?/);
      }, { maintenance: false }));
  });
}
