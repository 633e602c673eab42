import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, InvalidStateError, JobNotFoundError, StaleLeaseError } from '../../core/errors.ts';
import { newJobId } from '../../core/ids.ts';
import type { Job, JobState, Lease } from '../../core/job.ts';
import { QueueBusyError } from '../../core/errors.ts';
import { deleteQueue } from '../../engine/operator.ts';
import type { Store } from '../store.ts';
import { inProcessOnly, withHarness, type Harness, type HarnessTarget } from './harness.ts';
import { waitFor } from './worker.ts';

const lease = (j: Job): Lease => ({ jobId: j.id, token: j.leaseToken });
const byId = (a: { jobId: string }, b: { jobId: string }) => (a.jobId < b.jobId ? -1 : 1);

/**
 * A job of `queue` in `state`. Active, completed and dead jobs are claimed at the top
 * priority, so the claim takes that very job whatever else waits in the queue.
 */
async function jobIn(h: Harness, queue: string, state: JobState, name?: string): Promise<Job> {
  const q = h.api.queue(queue);
  const named = name === undefined ? {} : { name };
  if (state === 'scheduled') return q.add({ state }, { ...named, delayMs: 60_000 });
  if (state === 'ready') return q.add({ state }, named);
  if (state === 'cancelled') {
    const job = await q.add({ state }, named);
    await h.api.cancel(job.id);
    return job;
  }
  const added = await q.add({ state }, { ...named, priority: 1_000_000 });
  const [job] = await h.spool.claim(queue, 1);
  assert.equal(job!.id, added.id);
  if (state === 'completed') await h.api.ack(lease(job!));
  if (state === 'dead') await h.api.nack(lease(job!), 'boom', { unrecoverable: true });
  return job!;
}

type Call = { method: string; ids?: readonly string[]; result?: unknown };

/** The store, with the ids or results it is called with recorded, for checking batches. */
function recording(store: Store, calls: Call[]): Store {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (key === 'jobsRetry' || key === 'jobsCancel' || key === 'jobsDelete') calls.push({ method: key, ids: args[0] as string[] });
        if (key === 'queueDelete') calls.push({ method: key, result });
        return result;
      };
    },
  });
}

/** The target with the engine's store recording its batch calls into `calls`: the engine works on the recording store, whichever way the test comes in. */
function recorded(target: HarnessTarget, calls: Call[]): HarnessTarget {
  return { ...target, factory: async (o) => recording(await target.factory(o), calls) };
}

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
        assert.deepEqual(await api.list('q', { limit: 100 }), []);
        assert.deepEqual((await api.stats('q'))[0]!.counts, { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 });
        assert.equal((await api.get(kept.id)).state, 'ready');
        // A job added afterwards makes the queue anew, with default settings.
        await store.jobsInsertMany([{ id: newJobId(clock.now()), queue: 'q', name: 'default', payload: '{}', priority: 0, runAt: clock.now(), state: 'ready', maxAttempts: 5, maxStalls: 3, createdAt: clock.now() }]);
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
        assert.deepEqual((await api.stats('big'))[0]!.counts, { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 });
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

  describe('operator: bulk retry, cancel, delete', () => {
    it('retries dead jobs by name over three batches with a cursor; counts add up, nothing is retried twice', () => {
      const calls: Call[] = [];
      return withHarness(recorded(target, calls), async (h) => {
        const { api, spool, clock } = h;
        const q = api.queue('q');
        // Comes to match (dies) only after the first batch passed its id: not handled by this pass.
        const early = await q.add('early', { name: 'x', priority: 10, delayMs: 1000 });
        const first = await q.addMany(Array.from({ length: 31 }, (_, i) => ({ payload: i, name: i % 5 === 4 ? 'y' : 'x' })));
        const readyX = await q.addMany([{ payload: 'r1', name: 'x', priority: -1 }, { payload: 'r2', name: 'x', priority: -1 }]);
        const dying = await spool.claim('q', 31);
        assert.deepEqual(new Set(dying.map((j) => j.id)), new Set(first.map((j) => j.id)));
        for (const job of dying) await api.nack(lease(job), 'down', { unrecoverable: true });
        const deadX = first.filter((j) => j.name === 'x');
        assert.equal(deadX.length, 25);

        calls.length = 0;
        const filter = { queue: 'q', state: 'dead' as const, name: 'x' };
        const batches = [];
        let out = await api.bulk('retry', filter, { limit: 10 });
        batches.push(out);
        assert.deepEqual(out, { matched: 10, changed: 10, skipped: 0, next: deadX[9]!.id });

        // Between batches: `early` dies (its id is before the cursor), and three new x jobs die (after it).
        await clock.advance(1000);
        const [e] = await spool.claim('q', 1);
        assert.equal(e!.id, early.id);
        await api.nack(lease(e!), 'down', { unrecoverable: true });
        const late = await q.addMany([1, 2, 3].map((n) => ({ payload: `late${n}`, name: 'x', priority: 5 })));
        for (const job of await spool.claim('q', 3)) await api.nack(lease(job), 'down', { unrecoverable: true });

        while (out.next !== null) {
          out = await api.bulk('retry', filter, { limit: 10, after: out.next });
          batches.push(out);
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
        assert.equal((await api.get(early.id)).state, 'dead', 'it died behind the cursor: a new pass takes it');
        assert.deepEqual((await api.list('q', { state: 'dead' })).map((j) => j.name).sort(), ['x', 'y', 'y', 'y', 'y', 'y', 'y']);
        for (const j of readyX) assert.equal((await api.get(j.id)).state, 'ready');

        const again = await api.bulk('retry', filter);
        assert.deepEqual(again, { matched: 1, changed: 1, skipped: 0, next: null });
        // Without a state, retry matches every x job; only the dead, cancelled and scheduled ones change.
        const wide = await api.bulk('retry', { queue: 'q', name: 'x' });
        assert.deepEqual(wide, { matched: 31, changed: 0, skipped: 31, next: null });
      });
    });

    it('a bulk retry wakes the queue\'s workers', () =>
      withHarness(target, async ({ api, spool, settled }) => {
        const q = api.queue('q');
        await q.addMany([{ payload: 1 }, { payload: 2 }]);
        for (const job of await spool.claim('q', 2)) await api.nack(lease(job), 'down', { unrecoverable: true });
        const seen: unknown[] = [];
        const worker = q.work(async (job) => void seen.push(job.payload));
        await settled(); // subscribed, and found nothing to run: only a wake-up can deliver now (no polls, no maintenance)
        assert.deepEqual(await q.bulk('retry', { state: 'dead' }), { matched: 2, changed: 2, skipped: 0, next: null });
        await waitFor(() => seen.length === 2, 20_000, 'both retried jobs');
        assert.deepEqual([...seen].sort(), [1, 2]);
        await worker.close();
      }, { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 }));

    it('cancels a mix of states: waiting and active jobs change, finished ones are skipped, active leases are revoked', () =>
      withHarness(target, async (h) => {
        const { api } = h;
        const special = [await jobIn(h, 'q', 'ready', 'special'), await jobIn(h, 'q', 'scheduled', 'special')];
        // The active jobs are delivered to a subscriber, which must be told when their leases end.
        const q = api.queue('q');
        const delivered: Job[] = [];
        const revoked: Lease[] = [];
        const sub = api.subscribe('q', { deliver: (jobs) => void delivered.push(...jobs), revoke: (l) => void revoked.push(l) });
        const active: Job[] = [];
        for (let i = 0; i < 2; i++) {
          active.push(await q.add({ state: 'active' }, { priority: 1_000_000 }));
          sub.addCredits(1);
          await waitFor(() => delivered.length === i + 1, 20_000, 'the delivery');
          assert.equal(delivered[i]!.id, active[i]!.id);
        }
        const others = [
          await jobIn(h, 'q', 'scheduled'), await jobIn(h, 'q', 'ready'), await jobIn(h, 'q', 'ready'),
          await jobIn(h, 'q', 'completed'), await jobIn(h, 'q', 'dead'), await jobIn(h, 'q', 'cancelled'),
        ];
        const named = await api.bulk('cancel', { queue: 'q', name: 'special' });
        assert.deepEqual(named, { matched: 2, changed: 2, skipped: 0, next: null });
        for (const j of special) assert.equal((await api.get(j.id)).state, 'cancelled');

        let after: string | undefined;
        const totals = { matched: 0, changed: 0, skipped: 0 };
        for (;;) {
          const out = await api.bulk('cancel', { queue: 'q' }, { limit: 4, ...(after ? { after } : {}) });
          totals.matched += out.matched;
          totals.changed += out.changed;
          totals.skipped += out.skipped;
          if (out.next === null) break;
          after = out.next;
        }
        // 10 jobs: 2 special (cancelled now), 2 active, 6 others (scheduled, 2 ready; completed, dead, cancelled).
        assert.deepEqual(totals, { matched: 10, changed: 5, skipped: 5 });
        // As with a single cancel, the revokes reach the subscriber before the call returns.
        assert.deepEqual([...revoked].sort(byId), delivered.map(lease).sort(byId), 'the very leases cancelled');
        assert.deepEqual((await api.stats('q'))[0]!.counts, { scheduled: 0, ready: 0, active: 0, completed: 1, dead: 1, cancelled: 8 });
        await assert.rejects(api.ack(lease(delivered[0]!)), (e: Error) => e instanceof StaleLeaseError && /cancelled/.test(e.message));
        assert.equal((await api.get(others[3]!.id)).state, 'completed');
        sub.close();
      }));

    it('deletes by state, then everything but the active jobs, page by page', () =>
      withHarness(target, async (h) => {
        const { api } = h;
        const active = await jobIn(h, 'q', 'active');
        for (const state of ['scheduled', 'ready', 'ready', 'completed', 'completed', 'dead', 'cancelled'] as const) await jobIn(h, 'q', state);
        const kept = await jobIn(h, 'other', 'completed');
        const done = await api.bulk('delete', { queue: 'q', state: 'completed' });
        assert.deepEqual(done, { matched: 2, changed: 2, skipped: 0, next: null });
        assert.equal((await api.get(kept.id)).state, 'completed', 'another queue is untouched');

        const first = await api.bulk('delete', { queue: 'q' }, { limit: 3 });
        assert.deepEqual([first.matched, first.changed, first.skipped], [3, 2, 1], 'the active job is first in id order');
        assert.equal(first.next !== null, true);
        const rest = await api.bulk('delete', { queue: 'q' }, { limit: 10, after: first.next! });
        assert.deepEqual(rest, { matched: 3, changed: 3, skipped: 0, next: null });
        assert.deepEqual((await api.list('q', { limit: 10 })).map((j) => j.id), [active.id]);
        await api.ack(lease(active));
      }));

    it('refuses bad actions, filters and options, changing nothing', () =>
      withHarness(target, async (h) => {
        const { api, store } = h;
        const job = await jobIn(h, 'q', 'dead');
        const refused = (field: string, pattern: RegExp) => (e: Error) => {
          assert.ok(e instanceof InvalidArgumentError, `${e}`);
          assert.equal(e.field, field);
          assert.match(e.message, pattern);
          return true;
        };
        const bulk = (action: unknown, filter: unknown, options?: unknown) => api.bulk(action as never, filter as never, options as never);
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
        await assert.rejects(api.deleteQueue('bad queue!'), refused('queue', /is not valid/));
        await assert.rejects(api.deleteQueue('q', { forse: true } as never), refused('forse', /deleteQueue: unknown option "forse"; did you mean "force"\?/));
        await assert.rejects(api.deleteQueue('q', { force: 'yes' } as never), refused('force', /force must be a boolean/));
        assert.equal((await api.get(job.id)).state, 'dead');
        assert.notEqual(await store.queueGet('q'), null);
      }));
  });
}
