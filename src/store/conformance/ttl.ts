import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import { EXPIRED_ERROR, type Job } from '../../core/job.ts';
import { LIMITS } from '../../core/limits.ts';
import { withHarness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';

/** No background ticks: only a claim can find an expired job, so the claim's own check is what is tested. */
const NO_SWEEP = { maintenance: false } as const;

/** Dead because it was not started in time: never attempted, the reason and the marker recorded. */
function assertExpired(job: Job): void {
  assert.equal(job.state, 'dead');
  assert.equal(job.deadReason, 'expired');
  assert.equal(job.lastError, EXPIRED_ERROR);
  assert.equal(job.attempt, 0);
  assert.equal(job.leaseToken, 0);
  assert.deepEqual(job.history, []);
  assert.notEqual(job.finishedAt, null);
}

/** The `ttlMs` add option: a job not started (first leased) within it of its add is never run, but dead. */
export function ttlSuite(target: HarnessTarget): void {
  describe('time to live (ttlMs)', () => {
    it('a job not started within ttlMs is never delivered: the claim moves it to dead (expired) and hands out the others', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const start = h.clock.now();
        const short = await q.add({ n: 'short' }, { ttlMs: 1000 });
        const plain = await q.add({ n: 'plain' });
        const long = await q.add({ n: 'long' }, { ttlMs: 60_000 });
        // Scheduled past its own deadline: it expires before it is ever due.
        const late = await q.add({ n: 'late' }, { delayMs: 5000, ttlMs: 2000 });
        assert.equal(short.expiresAt, start + 1000);
        assert.equal(plain.expiresAt, null);
        assert.equal((await h.api.get(long.id)).expiresAt, start + 60_000);
        await h.clock.advance(2500);

        const seen: unknown[] = [];
        const worker = q.work(async (job) => void seen.push(job.payload), { concurrency: 4 });
        await h.settled();
        await h.clock.advance(3000); // `late` would be due now, had it not expired
        await h.settled();
        await worker.close();
        assert.deepEqual(seen, [{ n: 'plain' }, { n: 'long' }]);
        assertExpired(await h.api.get(short.id));
        assertExpired(await h.api.get(late.id));
        assert.deepEqual((await h.api.get(short.id)).expiresAt, start + 1000);
        const { counts } = await q.stats();
        assert.deepEqual([counts.dead, counts.completed, counts.ready, counts.scheduled, counts.active], [2, 2, 0, 0, 0]);
        assert.deepEqual((await q.list({ state: 'dead' })).map((j) => j.id), [short.id, late.id]);
      }, NO_SWEEP));

    it('a job started in time is not affected: a retry after its deadline runs, and a release keeps it runnable', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ backoff: { type: 'fixed', delayMs: 0 } });
        const job = await q.add({ n: 1 }, { ttlMs: 1000 });
        const [first] = await h.spool.claim('q', 1);
        assert.equal(first!.id, job.id);
        await h.clock.advance(5000);
        assert.equal(await h.api.nack(lease(first!), 'flaky'), 'ready');
        const [second] = await h.spool.claim('q', 1);
        assert.equal(second?.id, job.id, 'the retry runs: the deadline was about starting');
        await h.api.release(lease(second!));
        await h.clock.advance(5000);
        const [third] = await h.spool.claim('q', 1);
        assert.equal(third?.id, job.id);
        await h.api.ack(lease(third!), 'ok');
        const done = await h.api.get(job.id);
        assert.equal(done.state, 'completed');
        assert.equal(done.deadReason, null);
      }, NO_SWEEP));

    it("the leader's sweep moves the expired jobs of a queue nobody claims from to dead", () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('idle');
        const ready = await q.add({ n: 1 }, { ttlMs: 1000 });
        const scheduled = await q.add({ n: 2 }, { delayMs: 60_000, ttlMs: 1500 });
        const keeps = await q.add({ n: 3 }, { ttlMs: 10_000 });
        const plain = await q.add({ n: 4 });
        await h.clock.advance(999);
        await h.settled();
        assert.equal((await h.api.get(ready.id)).state, 'ready', 'not before its deadline');
        await h.clock.advance(2000); // maintenance ticks every second on the engine's clock
        await h.settled();
        assertExpired(await h.api.get(ready.id));
        assertExpired(await h.api.get(scheduled.id));
        assert.equal((await h.api.get(keeps.id)).state, 'ready');
        assert.equal((await h.api.get(plain.id)).state, 'ready');
        const { counts } = await q.stats();
        assert.deepEqual([counts.dead, counts.ready, counts.scheduled], [2, 2, 0]);
      }));

    it('an operator retry of an expired job lifts its deadline: it runs', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const job = await q.add({ n: 1 }, { ttlMs: 1000 });
        await h.clock.advance(2000);
        assert.deepEqual(await h.spool.claim('q', 1), []);
        assertExpired(await h.api.get(job.id));
        await h.api.retry(job.id);
        const retried = await h.api.get(job.id);
        assert.equal(retried.state, 'ready');
        assert.equal(retried.expiresAt, null);
        await h.clock.advance(5000);
        const [again] = await h.spool.claim('q', 1);
        assert.equal(again?.id, job.id);
      }, NO_SWEEP));

    it('ttlMs is checked like the other add options (0: none), in add and addMany', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        assert.equal((await q.add(1, { ttlMs: 0 })).expiresAt, null);
        const [many] = await q.addMany([{ payload: 2, ttlMs: 500 }]);
        assert.equal(many!.expiresAt, many!.createdAt + 500);
        for (const [bad, why] of [[-1, /ttlMs must be at least 0/], [1.5, /ttlMs must be an integer/], ['10s', /ttlMs must be an integer/], [LIMITS.ttlMs.max + 1, /ttlMs must be at most/]] as const) {
          await assert.rejects(q.add(3, { ttlMs: bad as never }), (err: Error) => err instanceof InvalidArgumentError && err.field === 'ttlMs' && why.test(err.message));
        }
        await assert.rejects(q.add(4, { ttl: 1000 } as never), (err: Error) => err instanceof InvalidArgumentError && /unknown add option "ttl"; did you mean "ttlMs"\?/.test(err.message));
        assert.equal((await q.stats()).counts.ready, 2, 'nothing refused was stored');
      }, NO_SWEEP));
  });
}
