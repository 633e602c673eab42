import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, InvalidStateError, JobNotFoundError, QueueBusyError, QueueNotFoundError, StaleLeaseError } from '../../core/errors.ts';
import { newJobId } from '../../core/ids.ts';
import { deleteQueue } from '../../engine/operator.ts';
import { inProcessOnly, withHarness, type HarnessTarget } from './harness.ts';
import { jobIn, lease, recording, type Call } from './operator-support.ts';

export function operatorSuite(target: HarnessTarget): void {
  // In-process only: these call the store (or an engine function with a batch size no caller can
  // set) directly; the contract has no part in them.
  const atTheStore = inProcessOnly(target, 'calls the store directly');

  describe('operator: delete a job', () => {
    it('deletes a scheduled, ready, completed, dead or cancelled job; an active one is refused until it ends', () =>
      withHarness(target, async (h) => {
        const { api, store } = h;
        for (const state of ['scheduled', 'ready', 'completed', 'dead', 'cancelled'] as const) {
          const job = await jobIn(h, 'q', state);
          await api.deleteJob(job.id);
          await assert.rejects(api.get(job.id), JobNotFoundError);
          assert.deepEqual(await store.jobsGet([job.id]), [null], state);
        }
        const active = await jobIn(h, 'q', 'active');
        await assert.rejects(
          api.deleteJob(active.id),
          (e: Error) => e instanceof InvalidStateError && e.currentState === 'active' && /is active; cancel it first, then delete it/.test(e.message),
        );
        assert.equal((await api.get(active.id)).state, 'active');
        await api.ack(lease(active)); // the refused delete left the lease alone
        await api.deleteJob(active.id);
        assert.deepEqual((await api.stats('q'))[0]!.counts, { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 });
      }));

    it('an unknown id is JobNotFoundError (also the second delete); a malformed id is InvalidArgumentError', () =>
      withHarness(target, async (h) => {
        const { api } = h;
        await assert.rejects(api.deleteJob(newJobId()), JobNotFoundError);
        const job = await jobIn(h, 'q', 'ready');
        await api.deleteJob(job.id);
        await assert.rejects(api.deleteJob(job.id), JobNotFoundError);
        await assert.rejects(api.deleteJob('nope'), (e: Error) => e instanceof InvalidArgumentError && /"nope" is not a job id/.test(e.message));
      }));

    atTheStore('store: jobsDelete gives one result per id, in order, and deletes only what is not active', () =>
      withHarness(target, async (h) => {
        const ready = await jobIn(h, 'q', 'ready');
        const done = await jobIn(h, 'q', 'completed');
        const active = await jobIn(h, 'q', 'active');
        const unknown = newJobId();
        assert.deepEqual(await h.store.jobsDelete([active.id, unknown, done.id, ready.id], h.clock.now()), [
          { found: true, queue: 'q', previous: 'active', deleted: false },
          { found: false },
          { found: true, queue: 'q', previous: 'completed', deleted: true },
          { found: true, queue: 'q', previous: 'ready', deleted: true },
        ]);
        assert.deepEqual((await h.store.jobsGet([ready.id, done.id, active.id])).map((j) => j?.state ?? null), [null, null, 'active']);
      }));

    it('an active job is never deleted, even when the claim and the delete come in the same instant', () =>
      withHarness(target, async (h) => {
        const { api, store, clock } = h;
        for (let i = 0; i < 6; i++) {
          const queue = `race${i}`;
          const job = await api.queue(queue).add(i);
          const [claimed, [result]] = await Promise.all([
            store.jobsClaim({ queue, limit: 1, leaseMs: 30_000, now: clock.now() }),
            store.jobsDelete([job.id], clock.now()),
          ]);
          const [now] = await store.jobsGet([job.id]);
          if (claimed.length === 1) {
            assert.deepEqual(result, { found: true, queue, previous: 'active', deleted: false });
            assert.equal(now?.state, 'active', 'a claimed job is still there');
          } else {
            assert.deepEqual(result, { found: true, queue, previous: 'ready', deleted: true });
            assert.equal(now, null);
          }
          // Through the contract: the delete is refused, or the claim finds nothing.
          const again = await api.queue(queue).add(i);
          const [got, refused] = await Promise.all([
            h.spool.claim(queue, 1),
            api.deleteJob(again.id).then(() => null, (e: unknown) => e),
          ]);
          if (got.length === 1) {
            assert.ok(refused instanceof InvalidStateError, 'the delete of a job claimed first is refused');
            assert.equal((await api.get(again.id)).state, 'active');
          } else {
            assert.equal(refused, null);
            await assert.rejects(api.get(again.id), JobNotFoundError);
          }
        }
      }));
  });

  describe('operator: delete a queue', () => {
    it('deletes every job of a queue without active jobs, in every state, and its settings; other queues stay', () =>
      withHarness(target, async (h) => {
        const { api, store, clock } = h;
        await api.queue('q').configure({ maxAttempts: 7 });
        await api.setPaused('q', true);
        await api.setPaused('q', false);
        for (const state of ['scheduled', 'ready', 'completed', 'dead', 'cancelled'] as const) await jobIn(h, 'q', state);
        await jobIn(h, 'q', 'ready');
        const kept = await jobIn(h, 'other', 'ready');
        await api.setPaused('q', true);
        assert.deepEqual(await api.deleteQueue('q'), { jobsDeleted: 6 });
        assert.equal(await store.queueGet('q'), null, 'settings and paused flag are gone');
        assert.deepEqual((await store.queueList()).map((q) => q.name), ['other']);
        await assert.rejects(api.list('q', { limit: 100 }), QueueNotFoundError);
        await assert.rejects(api.stats('q'), QueueNotFoundError);
        assert.equal((await api.get(kept.id)).state, 'ready');
        // A job added afterwards makes the queue anew, with default settings.
        await store.jobsInsertMany([{ id: newJobId(clock.now()), queue: 'q', name: 'default', payload: '{}', priority: 0, runAt: clock.now(), state: 'ready', maxAttempts: 5, maxStalls: 3, timeoutMs: 0, trace: null, group: null, createdAt: clock.now() }]);
        assert.deepEqual((await store.queueGet('q'))?.config, {});
        assert.equal((await store.queueGet('q'))?.paused, false);
      }));

    it('an unknown queue is not an error; a queue with settings only is deleted', () =>
      withHarness(target, async ({ api, store }) => {
        assert.deepEqual(await api.deleteQueue('nothing'), { jobsDeleted: 0 });
        await api.queue('empty').configure({ maxAttempts: 2 });
        assert.notEqual(await store.queueGet('empty'), null);
        assert.deepEqual(await api.deleteQueue('empty'), { jobsDeleted: 0 });
        assert.equal(await store.queueGet('empty'), null);
      }));

    it('is refused while jobs are active, deleting nothing; with force it deletes them and their leases go stale', () =>
      withHarness(target, async (h) => {
        const { api, store } = h;
        const a = await jobIn(h, 'q', 'active');
        const b = await jobIn(h, 'q', 'active');
        await jobIn(h, 'q', 'ready');
        await jobIn(h, 'q', 'completed');
        await assert.rejects(api.deleteQueue('q'), (e: Error) => {
          assert.ok(e instanceof InvalidStateError);
          assert.equal(e.code, 'INVALID_STATE');
          assert.equal(e.currentState, 'active');
          assert.match(e.message, /queue q has 2 active jobs; cancel them first, or delete the queue with force: true/);
          return true;
        });
        assert.deepEqual((await api.stats('q'))[0]!.counts, { scheduled: 0, ready: 1, active: 2, completed: 1, dead: 0, cancelled: 0 });
        assert.notEqual(await store.queueGet('q'), null);

        assert.deepEqual(await api.deleteQueue('q', { force: true }), { jobsDeleted: 4 });
        assert.equal(await store.queueGet('q'), null);
        await assert.rejects(api.ack(lease(a)), (e: Error) => e instanceof StaleLeaseError && e.currentState === null && /no longer exists/.test(e.message));
        await assert.rejects(api.nack(lease(b), 'late'), StaleLeaseError);
        await assert.rejects(api.extend(lease(b)), StaleLeaseError);
      }));

    it('a queue refused for its active jobs says which queue and how many: a QueueBusyError', () =>
      withHarness(target, async (h) => {
        await jobIn(h, 'q', 'active');
        await jobIn(h, 'q', 'active');
        await assert.rejects(h.api.deleteQueue('q'), (e: Error) => {
          assert.ok(e instanceof QueueBusyError, `a QueueBusyError, not ${e.constructor.name}`);
          assert.equal(e.activeJobs, 2);
          assert.equal(e.queue, 'q');
          return true;
        });
      }));

    atTheStore('deletes a queue of 2,500 jobs in bounded batches', () =>
      withHarness(target, async (h) => {
        const { api, spool, clock } = h;
        const q = api.queue('big');
        await q.addMany(Array.from({ length: 2500 }, (_, i) => ({ payload: i, ...(i % 10 === 0 ? { delayMs: 60_000 } : {}) })));
        const claimed = await spool.claim('big', 300);
        for (const job of claimed.slice(0, 200)) await api.ack(lease(job));
        for (const job of claimed.slice(200)) await api.nack(lease(job), 'x', { unrecoverable: true });
        const kept = await api.queue('other').add('stay');
        const calls: Call[] = [];
        const { result } = await deleteQueue(recording(h.store, calls), 'big', {}, clock.now(), 1000);
        assert.deepEqual(result, { found: true, deleted: true, activeJobs: 0, jobsDeleted: 2500 });
        const steps = calls.filter((c) => c.method === 'queueDelete').map((c) => (c.result as { jobsDeleted: number }).jobsDeleted);
        assert.deepEqual(steps, [1000, 1000, 500], 'three steps of at most 1,000 jobs');
        await assert.rejects(api.stats('big'), QueueNotFoundError);
        assert.equal((await api.get(kept.id)).state, 'ready');
      }));

    atTheStore('without force, never deletes a job claimed in the same instant', () =>
      withHarness(target, async (h) => {
        const { store, clock } = h;
        for (let i = 0; i < 4; i++) {
          const queue = `race${i}`;
          await h.api.queue(queue).addMany(Array.from({ length: 20 }, (_, n) => ({ payload: n })));
          const [claimed, step] = await Promise.all([
            store.jobsClaim({ queue, limit: 5, leaseMs: 30_000, now: clock.now() }),
            store.queueDelete({ name: queue, force: false, limit: 100 }, clock.now()),
          ]);
          for (const job of await store.jobsGet(claimed.map((j) => j.id))) assert.equal(job?.state, 'active', 'every claimed job is still there');
          const left = await store.jobsList({ queue, limit: 100 });
          if (step.activeJobs > 0) {
            assert.deepEqual([step.deleted, step.jobsDeleted], [false, 0], 'refused: nothing deleted');
            assert.equal(left.length, 20);
          } else {
            assert.equal(step.jobsDeleted + left.length, 20);
            assert.deepEqual(left.map((j) => j.state), claimed.map(() => 'active'));
            assert.equal(step.deleted, claimed.length === 0);
          }
        }
      }));
  });

  describe('operator: list by name', () => {
    it('finds a rare name in a large queue, with and without a state, page by page', () =>
      withHarness(target, async ({ api }) => {
        const items = Array.from({ length: 9000 }, (_, i) => ({ payload: i, name: i % 1000 === 999 ? 'rare' : 'common' }));
        await api.queue('q').addMany(items);
        await api.queue('other').add('x', { name: 'rare' });
        const all = await api.list('q', { name: 'rare', limit: 100 });
        assert.deepEqual(all.map((j) => j.payload), [999, 1999, 2999, 3999, 4999, 5999, 6999, 7999, 8999]);
        for (const state of [undefined, 'ready'] as const) {
          const first = await api.list('q', { state, name: 'rare', limit: 4 });
          const second = await api.list('q', { state, name: 'rare', limit: 4, after: first.at(-1)!.id });
          const third = await api.list('q', { state, name: 'rare', limit: 4, after: second.at(-1)!.id });
          assert.deepEqual([...first, ...second, ...third].map((j) => j.payload), [999, 1999, 2999, 3999, 4999, 5999, 6999, 7999, 8999], String(state));
        }
        assert.deepEqual(await api.list('q', { state: 'dead', name: 'rare', limit: 10 }), []);
        assert.deepEqual(await api.list('q', { name: 'absent', limit: 10 }), []);
      }));
  });

}
