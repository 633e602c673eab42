import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, QueueFullError } from '../../core/errors.ts';
import { DROPPED_ERROR } from '../../core/job.ts';
import { LIMITS } from '../../core/limits.ts';
import { SAMPLER } from '../../model/sampler.ts';
import { withHarness, type Harness, type HarnessTarget } from './harness.ts';

/** Asserts `add` ends in QueueFullError once the wait for room (queueFullWaitMs) has run out with no room made. */
async function refusedAfterWait(h: Harness, add: Promise<unknown>, queue: string, maxLength: number): Promise<void> {
  const outcome = add.then(() => 'stored', (err: unknown) => err);
  await h.settled();
  await h.clock.advance(LIMITS.queueFullWaitMs.default); // the whole wait, in one step: no room was made meanwhile
  await h.settled();
  const err = await outcome;
  assert.ok(err instanceof QueueFullError, `expected QueueFullError, got ${String(err)}`);
  assert.equal(err.code, 'QUEUE_FULL');
  assert.equal(err.queue, queue);
  assert.equal(err.maxLength, maxLength);
  assert.match(err.message, /is full.*nothing was stored/);
}

/** Bounded queues (`maxLength`, `overflow`): peak shaving, enforced by the store in the add's transaction. */
export function boundedSuite(target: HarnessTarget): void {
  describe('bounded queues (maxLength)', () => {
    it("an add to a queue at its bound (overflow 'reject') waits, then is refused with QUEUE_FULL: nothing stored", () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('b');
        const config = await q.configure({ maxLength: 2 });
        assert.deepEqual([config.maxLength, config.overflow], [2, 'reject']);
        await q.add({ n: 1 });
        await q.add({ n: 2 });
        await refusedAfterWait(h, q.add({ n: 3 }), 'b', 2);
        const stats = await q.stats();
        assert.deepEqual([stats.counts.ready, stats.length, stats.maxLength, stats.overflow], [2, 2, 2, 'reject']);
        assert.deepEqual((await q.list()).map((j) => j.payload), [{ n: 1 }, { n: 2 }]);
      }));

    it('an add waiting for room is stored as soon as a job of the queue is claimed', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('b');
        await q.configure({ maxLength: 2 });
        const [first] = [await q.add({ n: 1 }), await q.add({ n: 2 })];
        let stored = false;
        const waiting = q.add({ n: 3 }).then((job) => ((stored = true), job));
        await h.settled();
        assert.equal(stored, false, 'the queue is full: the add waits');
        const [claimed] = await h.spool.claim('b', 1); // a job leaves the waiting ones: the add is woken
        assert.equal(claimed!.id, first!.id);
        const job = await waiting; // no clock move: woken by the claim, not by a timer
        assert.equal(job.state, 'ready');
        const stats = await q.stats();
        assert.deepEqual([stats.counts.ready, stats.counts.active, stats.length], [2, 1, 2]);
      }));

    it("overflow 'drop-oldest': the add is stored and the oldest waiting job becomes dead (dropped), counted", () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('d');
        await q.configure({ maxLength: 2, overflow: 'drop-oldest' });
        const a = await q.add({ n: 'a' });
        const b = await q.add({ n: 'b' }, { delayMs: 60_000 }); // scheduled jobs are waiting too
        const c = await q.add({ n: 'c' });
        const dropped = await h.api.get(a.id);
        assert.equal(dropped.state, 'dead');
        assert.equal(dropped.deadReason, 'dropped');
        assert.equal(dropped.lastError, DROPPED_ERROR);
        assert.equal(dropped.attempt, 0);
        assert.deepEqual([(await h.api.get(b.id)).state, (await h.api.get(c.id)).state], ['scheduled', 'ready']);
        await q.add({ n: 'd' });
        assert.equal((await h.api.get(b.id)).deadReason, 'dropped', 'the oldest waiting job goes, scheduled or ready');
        const stats = await q.stats();
        assert.deepEqual([stats.length, stats.counts.dead, stats.maxLength, stats.overflow], [2, 2, 2, 'drop-oldest']);
        await h.clock.advance(SAMPLER.tickMs); // an overview cached before the queue existed (a broker's metrics read one) is read again
        await h.settled();
        const overview = await h.api.overview();
        assert.equal(overview.queues.find((s) => s.queue === 'd')!.model.dropped, 2);
        assert.deepEqual((await q.list({ state: 'dead' })).map((j) => j.id), [a.id, b.id]);
      }));

    it("overflow 'drop-oldest' with a batch larger than the bound keeps its newest maxLength jobs waiting", () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('d');
        await q.configure({ maxLength: 3, overflow: 'drop-oldest' });
        const old = await q.add({ n: 0 });
        const jobs = await q.addMany([1, 2, 3, 4, 5].map((n) => ({ payload: { n } })));
        assert.equal(jobs.length, 5);
        const states = await Promise.all([old, ...jobs].map(async (j) => (await h.api.get(j.id)).state));
        assert.deepEqual(states, ['dead', 'dead', 'dead', 'ready', 'ready', 'ready']);
        assert.equal((await q.stats()).length, 3);
      }));

    it("addMany is all or nothing: a batch that does not fit is refused whole (overflow 'reject')", () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('b');
        await q.configure({ maxLength: 3 });
        await q.add({ n: 0 });
        await refusedAfterWait(h, q.addMany([1, 2, 3].map((n) => ({ payload: { n } }))), 'b', 3);
        assert.equal((await q.stats()).length, 1, 'nothing of the batch was stored');
        const fits = await q.addMany([1, 2].map((n) => ({ payload: { n } })));
        assert.equal(fits.length, 2);
        assert.equal((await q.stats()).length, 3);
      }));

    it('scheduled jobs count toward the bound; active jobs do not', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('b');
        await q.configure({ maxLength: 2 });
        await q.add({ n: 1 }, { delayMs: 60_000 });
        await q.add({ n: 2 });
        await refusedAfterWait(h, q.add({ n: 3 }), 'b', 2);
        assert.equal((await h.spool.claim('b', 1)).length, 1); // the ready one becomes active
        await q.add({ n: 4 });
        const stats = await q.stats();
        assert.deepEqual([stats.counts.scheduled, stats.counts.ready, stats.counts.active, stats.length], [1, 1, 1, 2]);
      }));

    it('an unbounded queue is not affected, and removing the bound lets adds in again', () =>
      withHarness(target, async (h) => {
        const free = h.api.queue('free');
        await free.addMany(Array.from({ length: 50 }, (_, n) => ({ payload: { n } })));
        const stats = await free.stats();
        assert.deepEqual([stats.length, stats.maxLength, stats.overflow], [50, null, 'reject']);
        const q = h.api.queue('b');
        await q.configure({ maxLength: 1 });
        await q.add({ n: 1 });
        const waiting = q.add({ n: 2 });
        await h.settled();
        await q.configure({ maxLength: null });
        await h.clock.advance(LIMITS.pollIntervalMs.default); // another process's change is seen within the poll
        assert.equal((await waiting).state, 'ready');
        assert.equal((await q.stats()).maxLength, null);
      }));

    it('refuses a bad maxLength or overflow, naming the nearest valid value', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('b');
        await assert.rejects(q.configure({ maxLength: -1 }), (e) => e instanceof InvalidArgumentError && e.field === 'maxLength');
        await assert.rejects(q.configure({ maxLength: 1.5 }), (e) => e instanceof InvalidArgumentError && e.field === 'maxLength');
        await assert.rejects(q.configure({ overflow: 'drop-olderst' as never }), (e) => e instanceof InvalidArgumentError && e.field === 'overflow' && /did you mean "drop-oldest"/.test(e.message));
        await assert.rejects(q.configure({ maxLenght: 3 } as never), (e) => e instanceof InvalidArgumentError && /did you mean "maxLength"/.test(e.message));
      }));
  });
}
