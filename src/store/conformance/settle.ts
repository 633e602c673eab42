import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidStateError, StaleLeaseError, UnrecoverableError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { withHarness, type HarnessTarget } from './harness.ts';

const lease = (j: Job) => ({ jobId: j.id, token: j.leaseToken });

export function settleSuite(target: HarnessTarget): void {
  describe('ack and nack', () => {
    it('ack completes the job with its result; a second ack is refused', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        await clock.advance(7);
        await api.ack(lease(job!), { sent: true });
        const done = await api.get(job!.id);
        assert.equal(done.state, 'completed');
        assert.deepEqual(done.result, { sent: true });
        assert.equal(done.finishedAt, clock.now());
        assert.equal(done.leaseExpiresAt, null);
        assert.deepEqual(done.history, [{ attempt: 1, token: 1, startedAt: clock.now() - 7, endedAt: clock.now(), outcome: 'completed' }]);
        await assert.rejects(api.ack(lease(job!)), (e: Error) => e instanceof StaleLeaseError && /the job is completed/.test(e.message));
        assert.equal((await api.get(job!.id)).state, 'completed');
      }));

    it('nack retries after a fixed backoff, then the job runs again as attempt 2', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ backoff: { type: 'fixed', delayMs: 2000 } });
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        const state = await api.nack(lease(job!), new Error('smtp down'));
        assert.equal(state, 'scheduled');
        const waiting = await api.get(job!.id);
        assert.equal(waiting.runAt, clock.now() + 2000);
        assert.match(waiting.lastError!, /smtp down/);
        assert.equal(waiting.history[0]!.outcome, 'failed');
        assert.match(waiting.history[0]!.error!, /smtp down/);
        assert.deepEqual(await spool.claim('q'), []);
        await clock.advance(2000);
        const [again] = await spool.claim('q');
        assert.equal(again!.attempt, 2);
        assert.equal(again!.leaseToken, 2);
      }));

    it('nack with zero backoff makes the job ready at once', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').configure({ backoff: { type: 'fixed', delayMs: 0 } });
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        assert.equal(await api.nack(lease(job!), 'oops'), 'ready');
        assert.equal((await spool.claim('q')).length, 1);
      }));

    it('exponential backoff grows with the attempt', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ maxAttempts: 10, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 5000 } });
        await api.queue('q').add({});
        const delays: number[] = [];
        for (let i = 0; i < 5; i++) {
          await clock.advance(60_000);
          const [job] = await spool.claim('q');
          await api.nack(lease(job!), 'fail');
          delays.push((await api.get(job!.id)).runAt - clock.now());
        }
        // random() is fixed at 0.5: delay = ceiling · 0.75, ceiling = min(5000, 1000 · 2^(attempt-1)).
        assert.deepEqual(delays, [750, 1500, 3000, 3750, 3750]);
      }));

    it('after maxAttempts the job is dead, with every error kept', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } });
        await api.queue('q').add({});
        const states: string[] = [];
        for (let i = 1; i <= 3; i++) {
          const [job] = await spool.claim('q');
          assert.equal(job!.attempt, i);
          states.push(await api.nack(lease(job!), new Error(`failure ${i}`)));
        }
        assert.deepEqual(states, ['ready', 'ready', 'dead']);
        const [dead] = await api.list('q', { state: 'dead' });
        assert.equal(dead!.deadReason, 'max-attempts');
        assert.equal(dead!.finishedAt, clock.now());
        assert.deepEqual(dead!.history.map((h) => h.outcome), ['failed', 'failed', 'failed']);
        assert.deepEqual(dead!.history.map((h) => h.error!.split('\n')[0]), ['Error: failure 1', 'Error: failure 2', 'Error: failure 3']);
        assert.deepEqual(await spool.claim('q'), []);
      }));

    it('a per-job maxAttempts overrides the queue default', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').configure({ backoff: { type: 'fixed', delayMs: 0 } });
        await api.queue('q').add({}, { maxAttempts: 1 });
        const [job] = await spool.claim('q');
        assert.equal(await api.nack(lease(job!), 'no'), 'dead');
      }));

    it('an UnrecoverableError skips the remaining attempts', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        assert.equal(await api.nack(lease(job!), new UnrecoverableError('user does not exist')), 'dead');
        assert.equal((await api.get(job!.id)).deadReason, 'unrecoverable');
      }));

    it('a nack with a stale lease is refused and changes nothing', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        await api.ack(lease(job!));
        await assert.rejects(api.nack(lease(job!), 'late'), StaleLeaseError);
        await assert.rejects(api.nack({ jobId: job!.id, token: 99 }, 'forged'), StaleLeaseError);
        assert.equal((await api.get(job!.id)).state, 'completed');
      }));

    it('a result that is not JSON is refused and the lease stays held', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        await assert.rejects(api.ack(lease(job!), { n: 1n }), /result\.n is a BigInt \(1n\); JSON has no BigInt/);
        assert.equal((await api.get(job!.id)).state, 'active');
        await api.ack(lease(job!), 'fine');
      }));
  });

  describe('cancel and retry', () => {
    it('cancels ready and scheduled jobs; cancelled jobs are never delivered', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const a = await api.queue('q').add('a');
        const b = await api.queue('q').add('b', { delayMs: 100 });
        await api.cancel(a.id);
        await api.cancel(b.id);
        await clock.advance(200);
        assert.deepEqual(await spool.claim('q', 10), []);
        assert.equal((await api.get(a.id)).state, 'cancelled');
        assert.equal((await api.get(b.id)).state, 'cancelled');
      }));

    it('cancelling an active job fences its lease', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        await api.cancel(job!.id);
        await assert.rejects(api.ack(lease(job!)), (e: Error) => e instanceof StaleLeaseError && /cancelled/.test(e.message));
        await assert.rejects(api.extend(lease(job!)), StaleLeaseError);
        const cancelled = await api.get(job!.id);
        assert.equal(cancelled.state, 'cancelled');
        assert.equal(cancelled.history.at(-1)!.outcome, 'cancelled');
      }));

    it('finished jobs cannot be cancelled', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        await api.ack(lease(job!));
        await assert.rejects(api.cancel(job!.id), (e: Error) => e instanceof InvalidStateError && /completed/.test(e.message));
        await api.cancel((await api.queue('q').add({})).id);
      }));

    it('retry redrives a dead job with fresh attempts', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({}, { maxAttempts: 1 });
        const [job] = await spool.claim('q');
        await api.nack(lease(job!), 'boom');
        await api.retry(job!.id);
        const again = await api.get(job!.id);
        assert.equal(again.state, 'ready');
        assert.equal(again.attempt, 0);
        assert.equal(again.deadReason, null);
        const [redelivered] = await spool.claim('q');
        assert.equal(redelivered!.attempt, 1);
        assert.equal(redelivered!.leaseToken, 2, 'the token keeps rising, so leases from before the redrive stay stale');
        await assert.rejects(api.ack(lease(job!)), StaleLeaseError);
      }));

    it('retry runs a cancelled job again, and a backed-off job now', () =>
      withHarness(target, async ({ api, spool }) => {
        const a = await api.queue('q').add('a');
        await api.cancel(a.id);
        await api.retry(a.id);
        assert.equal((await api.get(a.id)).state, 'ready');
        const [job] = await spool.claim('q');
        await api.nack(lease(job!), 'later'); // default backoff: 1 s
        assert.equal((await api.get(a.id)).state, 'scheduled');
        await api.retry(a.id);
        const now = await api.get(a.id);
        assert.equal(now.state, 'ready');
        assert.equal(now.attempt, 1, 'running a backed-off job early keeps its attempt count');
      }));

    it('retry refuses completed, ready and active jobs', () =>
      withHarness(target, async ({ api, spool }) => {
        const ready = await api.queue('q').add({});
        await assert.rejects(api.retry(ready.id), (e: Error) => e instanceof InvalidStateError && /already ready/.test(e.message));
        const [job] = await spool.claim('q');
        await assert.rejects(api.retry(job!.id), /already active/);
        await api.ack(lease(job!));
        await assert.rejects(api.retry(job!.id), (e: Error) => e instanceof InvalidStateError && /completed jobs are final/.test(e.message));
      }));
  });
}
