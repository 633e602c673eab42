import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, StaleLeaseError } from '../../core/errors.ts';
import type { Job, Lease } from '../../core/job.ts';
import { withHarness, type HarnessTarget } from './harness.ts';
import { byId, jobIn, lease, recorded, type Call } from './operator-support.ts';
import { waitFor } from './worker.ts';

/** Bulk retry, cancel and delete by filter, page by page with a cursor. */
export function operatorBulkSuite(target: HarnessTarget): void {
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
