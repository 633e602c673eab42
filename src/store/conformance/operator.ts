import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, InvalidStateError, JobNotFoundError, StaleLeaseError } from '../../core/errors.ts';
import { newJobId } from '../../core/ids.ts';
import type { Job, JobState, Lease } from '../../core/job.ts';
import { bulkAction } from '../../engine/bulk.ts';
import { deleteJob, deleteQueue, QueueBusyError } from '../../engine/operator.ts';
import type { Store } from '../store.ts';
import { withHarness, type Harness, type StoreFactory } from './harness.ts';

const lease = (j: Job): Lease => ({ jobId: j.id, token: j.leaseToken });
const byId = (a: { jobId: string }, b: { jobId: string }) => (a.jobId < b.jobId ? -1 : 1);

/**
 * A job of `queue` in `state`. Active, completed and dead jobs are claimed at the top
 * priority, so the claim takes that very job whatever else waits in the queue.
 */
async function jobIn(h: Harness, queue: string, state: JobState, name?: string): Promise<Job> {
  const q = h.spool.queue(queue);
  const named = name === undefined ? {} : { name };
  if (state === 'scheduled') return q.add({ state }, { ...named, delayMs: 60_000 });
  if (state === 'ready') return q.add({ state }, named);
  if (state === 'cancelled') {
    const job = await q.add({ state }, named);
    await h.spool.cancel(job.id);
    return job;
  }
  const added = await q.add({ state }, { ...named, priority: 1_000_000 });
  const [job] = await h.spool.claim(queue, 1);
  assert.equal(job!.id, added.id);
  if (state === 'completed') await h.spool.ack(lease(job!));
  if (state === 'dead') await h.spool.nack(lease(job!), 'boom', { unrecoverable: true });
  return job!;
}

/** The store, with the ids or limits it is called with recorded, for checking batches. */
function recording(store: Store): { store: Store; calls: { method: string; ids?: readonly string[]; result?: unknown }[] } {
  const calls: { method: string; ids?: readonly string[]; result?: unknown }[] = [];
  const proxy = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (key === 'jobsRetry' || key === 'jobsCancel' || key === 'jobsDelete') calls.push({ method: key, ids: args[0] as string[] });
        if (key === 'queueDelete') calls.push({ method: key, result });
        return result;
      };
    },
  });
  return { store: proxy, calls };
}

export function operatorSuite(factory: StoreFactory): void {
  describe('operator: delete a job', () => {
    it('deletes a scheduled, ready, completed, dead or cancelled job; an active one is refused until it ends', () =>
      withHarness(factory, async (h) => {
        const { spool, store, clock } = h;
        for (const state of ['scheduled', 'ready', 'completed', 'dead', 'cancelled'] as const) {
          const job = await jobIn(h, 'q', state);
          assert.deepEqual(await deleteJob(store, job.id, clock.now()), { queue: 'q', previous: state }, state);
          await assert.rejects(spool.get(job.id), JobNotFoundError);
          assert.deepEqual(await store.jobsGet([job.id]), [null]);
        }
        const active = await jobIn(h, 'q', 'active');
        await assert.rejects(
          deleteJob(store, active.id, clock.now()),
          (e: Error) => e instanceof InvalidStateError && e.currentState === 'active' && /is active; cancel it first, then delete it/.test(e.message),
        );
        assert.equal((await spool.get(active.id)).state, 'active');
        await spool.ack(lease(active)); // the refused delete left the lease alone
        await deleteJob(store, active.id, clock.now());
        assert.deepEqual((await spool.stats('q'))[0]!.counts, { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 });
      }));

    it('an unknown id is JobNotFoundError (also the second delete); a malformed id is InvalidArgumentError', () =>
      withHarness(factory, async (h) => {
        const { store, clock } = h;
        await assert.rejects(deleteJob(store, newJobId(), clock.now()), JobNotFoundError);
        const job = await jobIn(h, 'q', 'ready');
        await deleteJob(store, job.id, clock.now());
        await assert.rejects(deleteJob(store, job.id, clock.now()), JobNotFoundError);
        await assert.rejects(deleteJob(store, 'nope', clock.now()), (e: Error) => e instanceof InvalidArgumentError && /"nope" is not a job id/.test(e.message));
      }));

    it('store: jobsDelete gives one result per id, in order, and deletes only what is not active', () =>
      withHarness(factory, async (h) => {
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
      withHarness(factory, async (h) => {
        const { store, clock } = h;
        for (let i = 0; i < 6; i++) {
          const queue = `race${i}`;
          const job = await h.spool.queue(queue).add(i);
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
          // Through the engine: the delete is refused, or the claim finds nothing.
          const again = await h.spool.queue(queue).add(i);
          const [got, refused] = await Promise.all([
            h.spool.claim(queue, 1),
            deleteJob(store, again.id, clock.now()).then(() => null, (e: unknown) => e),
          ]);
          if (got.length === 1) {
            assert.ok(refused instanceof InvalidStateError, 'the delete of a job claimed first is refused');
            assert.equal((await h.spool.get(again.id)).state, 'active');
          } else {
            assert.equal(refused, null);
            await assert.rejects(h.spool.get(again.id), JobNotFoundError);
          }
        }
      }));
  });

  describe('operator: delete a queue', () => {
    it('deletes every job of a queue without active jobs, in every state, and its settings; other queues stay', () =>
      withHarness(factory, async (h) => {
        const { spool, store, clock } = h;
        await spool.queue('q').configure({ maxAttempts: 7 });
        await spool.setPaused('q', true);
        await spool.setPaused('q', false);
        for (const state of ['scheduled', 'ready', 'completed', 'dead', 'cancelled'] as const) await jobIn(h, 'q', state);
        await jobIn(h, 'q', 'ready');
        const kept = await jobIn(h, 'other', 'ready');
        await spool.setPaused('q', true);
        const { result, revoke } = await deleteQueue(store, 'q', {}, clock.now());
        assert.deepEqual(result, { found: true, deleted: true, activeJobs: 0, jobsDeleted: 6 });
        assert.deepEqual(revoke, []);
        assert.equal(await store.queueGet('q'), null, 'settings and paused flag are gone');
        assert.deepEqual((await store.queueList()).map((q) => q.name), ['other']);
        assert.deepEqual(await store.jobsList({ queue: 'q', limit: 100 }), []);
        assert.deepEqual((await store.queueStats('q', clock.now()))[0]!.counts, { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 });
        assert.equal((await spool.get(kept.id)).state, 'ready');
        // A job added afterwards makes the queue anew, with default settings.
        await store.jobsInsertMany([{ id: newJobId(clock.now()), queue: 'q', name: 'default', payload: '{}', priority: 0, runAt: clock.now(), state: 'ready', maxAttempts: 5, maxStalls: 3, createdAt: clock.now() }]);
        assert.deepEqual((await store.queueGet('q'))?.config, {});
        assert.equal((await store.queueGet('q'))?.paused, false);
      }));

    it('an unknown queue is not an error; a queue with settings only is deleted', () =>
      withHarness(factory, async ({ spool, store, clock }) => {
        assert.deepEqual((await deleteQueue(store, 'nothing', undefined, clock.now())).result, { found: false, deleted: false, activeJobs: 0, jobsDeleted: 0 });
        await spool.queue('empty').configure({ maxAttempts: 2 });
        assert.deepEqual((await deleteQueue(store, 'empty', {}, clock.now())).result, { found: true, deleted: true, activeJobs: 0, jobsDeleted: 0 });
        assert.equal(await store.queueGet('empty'), null);
      }));

    it('is refused while jobs are active, deleting nothing; with force it deletes them and their leases go stale', () =>
      withHarness(factory, async (h) => {
        const { spool, store, clock } = h;
        const a = await jobIn(h, 'q', 'active');
        const b = await jobIn(h, 'q', 'active');
        await jobIn(h, 'q', 'ready');
        await jobIn(h, 'q', 'completed');
        await assert.rejects(deleteQueue(store, 'q', {}, clock.now()), (e: Error) => {
          assert.ok(e instanceof QueueBusyError && e instanceof InvalidStateError);
          assert.equal(e.code, 'INVALID_STATE');
          assert.equal(e.activeJobs, 2);
          assert.equal(e.queue, 'q');
          assert.match(e.message, /queue q has 2 active jobs; cancel them first, or delete the queue with force: true/);
          return true;
        });
        assert.deepEqual((await spool.stats('q'))[0]!.counts, { scheduled: 0, ready: 1, active: 2, completed: 1, dead: 0, cancelled: 0 });
        assert.notEqual(await store.queueGet('q'), null);

        const { result, revoke } = await deleteQueue(store, 'q', { force: true }, clock.now());
        assert.deepEqual(result, { found: true, deleted: true, activeJobs: 2, jobsDeleted: 4 });
        assert.deepEqual([...revoke].sort(byId), [lease(a), lease(b)].sort(byId));
        assert.equal(await store.queueGet('q'), null);
        await assert.rejects(spool.ack(lease(a)), (e: Error) => e instanceof StaleLeaseError && e.currentState === null && /no longer exists/.test(e.message));
        await assert.rejects(spool.nack(lease(b), 'late'), StaleLeaseError);
        await assert.rejects(spool.extend(lease(b)), StaleLeaseError);
      }));

    it('deletes a queue of 2,500 jobs in bounded batches', () =>
      withHarness(factory, async (h) => {
        const { spool, clock } = h;
        const q = spool.queue('big');
        await q.addMany(Array.from({ length: 2500 }, (_, i) => ({ payload: i, ...(i % 10 === 0 ? { delayMs: 60_000 } : {}) })));
        const claimed = await spool.claim('big', 300);
        for (const job of claimed.slice(0, 200)) await spool.ack(lease(job));
        for (const job of claimed.slice(200)) await spool.nack(lease(job), 'x', { unrecoverable: true });
        const kept = await spool.queue('other').add('stay');
        const { store, calls } = recording(h.store);
        const { result } = await deleteQueue(store, 'big', {}, clock.now(), 1000);
        assert.deepEqual(result, { found: true, deleted: true, activeJobs: 0, jobsDeleted: 2500 });
        const steps = calls.filter((c) => c.method === 'queueDelete').map((c) => (c.result as { jobsDeleted: number }).jobsDeleted);
        assert.deepEqual(steps, [1000, 1000, 500], 'three steps of at most 1,000 jobs');
        assert.deepEqual((await spool.stats('big'))[0]!.counts, { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 });
        assert.equal((await spool.get(kept.id)).state, 'ready');
      }));

    it('without force, never deletes a job claimed in the same instant', () =>
      withHarness(factory, async (h) => {
        const { store, clock } = h;
        for (let i = 0; i < 4; i++) {
          const queue = `race${i}`;
          await h.spool.queue(queue).addMany(Array.from({ length: 20 }, (_, n) => ({ payload: n })));
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
      withHarness(factory, async ({ spool, store }) => {
        const items = Array.from({ length: 9000 }, (_, i) => ({ payload: i, name: i % 1000 === 999 ? 'rare' : 'common' }));
        await spool.queue('q').addMany(items);
        await spool.queue('other').add('x', { name: 'rare' });
        const all = await store.jobsList({ queue: 'q', name: 'rare', limit: 100 });
        assert.deepEqual(all.map((j) => j.payload), [999, 1999, 2999, 3999, 4999, 5999, 6999, 7999, 8999]);
        for (const state of [undefined, 'ready'] as const) {
          const first = await store.jobsList({ queue: 'q', state, name: 'rare', limit: 4 });
          const second = await store.jobsList({ queue: 'q', state, name: 'rare', limit: 4, after: first.at(-1)!.id });
          const third = await store.jobsList({ queue: 'q', state, name: 'rare', limit: 4, after: second.at(-1)!.id });
          assert.deepEqual([...first, ...second, ...third].map((j) => j.payload), [999, 1999, 2999, 3999, 4999, 5999, 6999, 7999, 8999], String(state));
        }
        assert.deepEqual(await store.jobsList({ queue: 'q', state: 'dead', name: 'rare', limit: 10 }), []);
        assert.deepEqual(await store.jobsList({ queue: 'q', name: 'absent', limit: 10 }), []);
      }));
  });

  describe('operator: bulk retry, cancel, delete', () => {
    it('retries dead jobs by name over three batches with a cursor; counts add up, nothing is retried twice', () =>
      withHarness(factory, async (h) => {
        const { spool, clock } = h;
        const q = spool.queue('q');
        // Comes to match (dies) only after the first batch passed its id: not handled by this pass.
        const early = await q.add('early', { name: 'x', priority: 10, delayMs: 1000 });
        const first = await q.addMany(Array.from({ length: 31 }, (_, i) => ({ payload: i, name: i % 5 === 4 ? 'y' : 'x' })));
        const readyX = await q.addMany([{ payload: 'r1', name: 'x', priority: -1 }, { payload: 'r2', name: 'x', priority: -1 }]);
        const dying = await spool.claim('q', 31);
        assert.deepEqual(new Set(dying.map((j) => j.id)), new Set(first.map((j) => j.id)));
        for (const job of dying) await spool.nack(lease(job), 'down', { unrecoverable: true });
        const deadX = first.filter((j) => j.name === 'x');
        assert.equal(deadX.length, 25);

        const { store, calls } = recording(h.store);
        const filter = { queue: 'q', state: 'dead' as const, name: 'x' };
        const batches = [];
        let out = await bulkAction(store, 'retry', filter, { limit: 10 }, clock.now());
        batches.push(out.result);
        assert.deepEqual(out.result, { matched: 10, changed: 10, skipped: 0, next: deadX[9]!.id });
        assert.equal(out.wake, 'q');
        assert.deepEqual(out.revoke, []);

        // Between batches: `early` dies (its id is before the cursor), and three new x jobs die (after it).
        await clock.advance(1000);
        const [e] = await spool.claim('q', 1);
        assert.equal(e!.id, early.id);
        await spool.nack(lease(e!), 'down', { unrecoverable: true });
        const late = await q.addMany([1, 2, 3].map((n) => ({ payload: `late${n}`, name: 'x', priority: 5 })));
        for (const job of await spool.claim('q', 3)) await spool.nack(lease(job), 'down', { unrecoverable: true });

        while (out.result.next !== null) {
          out = await bulkAction(store, 'retry', filter, { limit: 10, after: out.result.next }, clock.now());
          batches.push(out.result);
        }
        assert.deepEqual(batches, [
          { matched: 10, changed: 10, skipped: 0, next: deadX[9]!.id },
          { matched: 10, changed: 10, skipped: 0, next: deadX[19]!.id },
          { matched: 8, changed: 8, skipped: 0, next: null },
        ]);
        const retried = calls.filter((c) => c.method === 'jobsRetry').flatMap((c) => c.ids!);
        assert.equal(new Set(retried).size, retried.length, 'no job is retried twice');
        assert.deepEqual(new Set(retried), new Set([...deadX, ...late].map((j) => j.id)));
        for (const job of await h.store.jobsGet([...deadX, ...late].map((j) => j.id))) {
          assert.deepEqual([job!.state, job!.attempt, job!.deadReason], ['ready', 0, null]);
        }
        assert.equal((await spool.get(early.id)).state, 'dead', 'it died behind the cursor: a new pass takes it');
        assert.deepEqual((await spool.list('q', { state: 'dead' })).map((j) => j.name).sort(), ['x', 'y', 'y', 'y', 'y', 'y', 'y']);
        for (const j of readyX) assert.equal((await spool.get(j.id)).state, 'ready');

        const again = await bulkAction(h.store, 'retry', filter, {}, clock.now());
        assert.deepEqual(again.result, { matched: 1, changed: 1, skipped: 0, next: null });
        // Without a state, retry matches every x job; only the dead, cancelled and scheduled ones change.
        const wide = await bulkAction(h.store, 'retry', { queue: 'q', name: 'x' }, {}, clock.now());
        assert.deepEqual(wide.result, { matched: 31, changed: 0, skipped: 31, next: null });
        assert.equal(wide.wake, null);
      }));

    it('cancels a mix of states: waiting and active jobs change, finished ones are skipped, active leases are returned', () =>
      withHarness(factory, async (h) => {
        const { spool, store, clock } = h;
        const special = [await jobIn(h, 'q', 'ready', 'special'), await jobIn(h, 'q', 'scheduled', 'special')];
        const active = [await jobIn(h, 'q', 'active'), await jobIn(h, 'q', 'active')];
        const others = [
          await jobIn(h, 'q', 'scheduled'), await jobIn(h, 'q', 'ready'), await jobIn(h, 'q', 'ready'),
          await jobIn(h, 'q', 'completed'), await jobIn(h, 'q', 'dead'), await jobIn(h, 'q', 'cancelled'),
        ];
        const named = await bulkAction(store, 'cancel', { queue: 'q', name: 'special' }, {}, clock.now());
        assert.deepEqual(named.result, { matched: 2, changed: 2, skipped: 0, next: null });
        for (const j of special) assert.equal((await spool.get(j.id)).state, 'cancelled');

        let after: string | undefined;
        const totals = { matched: 0, changed: 0, skipped: 0 };
        const revoked: Lease[] = [];
        for (;;) {
          const out = await bulkAction(store, 'cancel', { queue: 'q' }, { limit: 4, ...(after ? { after } : {}) }, clock.now());
          totals.matched += out.result.matched;
          totals.changed += out.result.changed;
          totals.skipped += out.result.skipped;
          revoked.push(...out.revoke);
          assert.equal(out.wake, null);
          if (out.result.next === null) break;
          after = out.result.next;
        }
        // 10 jobs: 2 special (cancelled now), 2 active, 6 others (scheduled, 2 ready; completed, dead, cancelled).
        assert.deepEqual(totals, { matched: 10, changed: 5, skipped: 5 });
        assert.deepEqual([...revoked].sort(byId), active.map(lease).sort(byId), 'the very leases cancelled');
        assert.deepEqual((await spool.stats('q'))[0]!.counts, { scheduled: 0, ready: 0, active: 0, completed: 1, dead: 1, cancelled: 8 });
        await assert.rejects(spool.ack(lease(active[0]!)), (e: Error) => e instanceof StaleLeaseError && /cancelled/.test(e.message));
        assert.equal((await spool.get(others[3]!.id)).state, 'completed');
      }));

    it('deletes by state, then everything but the active jobs, page by page', () =>
      withHarness(factory, async (h) => {
        const { spool, store, clock } = h;
        const active = await jobIn(h, 'q', 'active');
        for (const state of ['scheduled', 'ready', 'ready', 'completed', 'completed', 'dead', 'cancelled'] as const) await jobIn(h, 'q', state);
        const kept = await jobIn(h, 'other', 'completed');
        const done = await bulkAction(store, 'delete', { queue: 'q', state: 'completed' }, {}, clock.now());
        assert.deepEqual(done.result, { matched: 2, changed: 2, skipped: 0, next: null });
        assert.equal((await spool.get(kept.id)).state, 'completed', 'another queue is untouched');

        const first = await bulkAction(store, 'delete', { queue: 'q' }, { limit: 3 }, clock.now());
        assert.deepEqual([first.result.matched, first.result.changed, first.result.skipped], [3, 2, 1], 'the active job is first in id order');
        assert.equal(first.result.next !== null, true);
        const rest = await bulkAction(store, 'delete', { queue: 'q' }, { limit: 10, after: first.result.next! }, clock.now());
        assert.deepEqual(rest.result, { matched: 3, changed: 3, skipped: 0, next: null });
        assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10 })).map((j) => j.id), [active.id]);
        await spool.ack(lease(active));
      }));

    it('refuses bad actions, filters and options, changing nothing', () =>
      withHarness(factory, async (h) => {
        const { store, clock } = h;
        const job = await jobIn(h, 'q', 'dead');
        const now = clock.now();
        const refused = (field: string, pattern: RegExp) => (e: Error) => {
          assert.ok(e instanceof InvalidArgumentError, `${e}`);
          assert.equal(e.field, field);
          assert.match(e.message, pattern);
          return true;
        };
        const bulk = (action: unknown, filter: unknown, options?: unknown) => bulkAction(store, action as never, filter as never, options as never, now);
        await assert.rejects(bulk('retry', { queue: 'q', stat: 'dead' }), refused('stat', /bulk: unknown filter key "stat"; did you mean "state"\?/));
        await assert.rejects(bulk('retry', { queue: 'q', color: 'red' }), refused('color', /unknown filter key "color"; valid filter keys: queue, state, name/));
        await assert.rejects(bulk('retry', { queue: 'q', state: 'deceased' }), refused('state', /state must be one of scheduled, ready, active, completed, dead, cancelled \(got "deceased"\)/));
        await assert.rejects(bulk('retry', { queue: 'bad queue!' }), refused('queue', /queue name "bad queue!" is not valid/));
        await assert.rejects(bulk('retry', { state: 'dead' }), refused('queue', /queue name undefined is not valid/));
        await assert.rejects(bulk('retry', { queue: 'q', name: '' }), refused('name', /job name must be a string of 1–128 characters/));
        await assert.rejects(bulk('retry', null), refused('filter', /the filter must be an object/));
        await assert.rejects(bulk('purge', { queue: 'q' }), refused('action', /action must be one of retry, cancel, delete \(got "purge"\)/));
        await assert.rejects(bulk('retry', { queue: 'q' }, { limit: 10_001 }), refused('limit', /limit must be at most 10000/));
        await assert.rejects(bulk('retry', { queue: 'q' }, { limit: 0 }), refused('limit', /limit must be at least 1/));
        await assert.rejects(bulk('retry', { queue: 'q' }, { after: 'x' }), refused('after', /after "x" is not a job id/));
        await assert.rejects(bulk('retry', { queue: 'q' }, { cursor: job.id }), refused('cursor', /bulk: unknown option "cursor"/));
        await assert.rejects(deleteQueue(store, 'bad queue!', {}, now), refused('queue', /is not valid/));
        await assert.rejects(deleteQueue(store, 'q', { forse: true } as never, now), refused('forse', /deleteQueue: unknown option "forse"; did you mean "force"\?/));
        await assert.rejects(deleteQueue(store, 'q', { force: 'yes' } as never, now), refused('force', /force must be a boolean/));
        assert.equal((await h.spool.get(job.id)).state, 'dead');
        assert.notEqual(await store.queueGet('q'), null);
      }));
  });
}
