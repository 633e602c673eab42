import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, QueueNotFoundError } from '../../core/errors.ts';
import { jobIdTime } from '../../core/ids.ts';
import { withHarness, type HarnessTarget } from './harness.ts';

export function statsListSuite(target: HarnessTarget): void {
  describe('stats, list, config, retention', () => {
    it('counts jobs per state and the oldest ready age', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const q = api.queue('q');
        await q.addMany([{ payload: 1 }, { payload: 2 }, { payload: 3 }, { payload: 4, delayMs: 10_000 }]);
        await clock.advance(250);
        const [a, b] = await spool.claim('q', 2);
        await api.ack({ jobId: a!.id, token: a!.leaseToken });
        await api.nack({ jobId: b!.id, token: b!.leaseToken }, 'x', { unrecoverable: true });
        await clock.advance(50);
        const s = await q.stats();
        assert.deepEqual(s.counts, { scheduled: 1, ready: 1, active: 0, completed: 1, dead: 1, cancelled: 0 });
        assert.equal(s.oldestReadyAgeMs, 300);
        await api.queue('other').add({});
        const all = await api.stats();
        assert.deepEqual(all.map((x) => x.queue), ['other', 'q']);
      }));

    it('reading, pausing or purging an unknown queue is QUEUE_NOT_FOUND and creates nothing; adding or configuring creates it', () =>
      withHarness(target, async ({ api, spool, store }) => {
        const q = api.queue('ordres');
        const notFound = (e: Error) => e instanceof QueueNotFoundError && e.code === 'QUEUE_NOT_FOUND' && e.queue === 'ordres' && /no queue named ordres/.test(e.message);
        await assert.rejects(q.stats(), notFound);
        await assert.rejects(q.config(), notFound);
        await assert.rejects(q.list(), notFound);
        await assert.rejects(q.purge(), notFound);
        await assert.rejects(q.pause(), notFound);
        await assert.rejects(q.resume(), notFound);
        // A consumer may start before its producers: a claim on an unknown queue finds nothing and makes nothing.
        assert.deepEqual(await spool.claim('ordres', 5), []);
        assert.equal(await store.queueGet('ordres'), null);
        assert.deepEqual((await api.stats()).map((s) => s.queue), []);

        await api.queue('set').configure({ maxAttempts: 2 });
        assert.equal((await api.queue('set').stats()).counts.ready, 0);
        await api.queue('added').add(1);
        assert.equal((await api.queue('added').stats()).counts.ready, 1);
        await api.queue('added').pause();
        assert.equal((await api.queue('added').stats()).paused, true);
      }));

    it('purge deletes waiting jobs and leaves leased and finished ones', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        await q.addMany([{ payload: 'a' }, { payload: 'b' }, { payload: 'c' }, { payload: 'later', delayMs: 60_000 }]);
        const [active, done] = await spool.claim('q', 2);
        await api.ack({ jobId: done!.id, token: done!.leaseToken });
        await api.queue('other').add('untouched');
        assert.equal(await q.purge(), 2);
        const s = await q.stats();
        assert.deepEqual(s.counts, { scheduled: 0, ready: 0, active: 1, completed: 1, dead: 0, cancelled: 0 });
        await api.ack({ jobId: active!.id, token: active!.leaseToken });
        assert.equal((await api.queue('other').stats()).counts.ready, 1);
        assert.equal(await q.purge(), 0);
      }));

    it('lists by state with cursor pagination', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const jobs = await q.addMany(Array.from({ length: 25 }, (_, i) => ({ payload: i })));
        await api.cancel(jobs[3]!.id);
        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await q.list({ state: 'ready', limit: 10, ...(after ? { after } : {}) });
          seen.push(...page.map((j) => j.id));
          if (page.length < 10) break;
          after = page.at(-1)!.id;
        }
        assert.equal(seen.length, 24);
        assert.ok(!seen.includes(jobs[3]!.id));
        assert.deepEqual((await q.list({ state: 'cancelled' })).map((j) => j.id), [jobs[3]!.id]);
        assert.equal((await q.list()).length, 25);
        await assert.rejects(q.list({ limit: 5000 }), /limit must be at most 1000/);
        await assert.rejects(q.list({ state: 'nope' as never }), InvalidArgumentError);
      }));

    it('lists by creation time range and by a payload field (bounded: go on from next); refuses bad filters naming the field', () =>
      withHarness(
        target,
        async ({ api, clock }) => {
          const q = api.queue('q');
          const early = await q.addMany(Array.from({ length: 150 }, (_, i) => ({ payload: { user: { id: i === 120 ? 12345 : i } } })));
          await clock.advance(10);
          const late = await q.add({ user: { id: '12345' } });
          // The range is by the time in the ids, which may run ahead of this test's clock (ids made
          // earlier in the process hold later times), so the bounds come from the ids themselves.
          const [first, last] = [jobIdTime(early[0]!.id), jobIdTime(late.id)];
          assert.ok((await q.list({ createdAfter: last, createdBefore: last, limit: 1000 })).some((j) => j.id === late.id));
          assert.equal((await q.list({ createdAfter: first, createdBefore: last, limit: 1000 })).length, 151);
          assert.deepEqual(await q.list({ createdAfter: last + 1 }), []);
          assert.deepEqual(await q.list({ createdBefore: first - 1 }), []);
          // searchScanMax is 100: the first page examines jobs 1–100 and finds nothing, yet goes on.
          const page1 = await q.listPage({ payload: { path: 'user.id', equals: 12345 } });
          assert.deepEqual(page1, { jobs: [], next: early[99]!.id });
          const page2 = await q.listPage({ payload: { path: 'user.id', equals: 12345 }, after: page1.next! });
          assert.deepEqual([page2.jobs.map((j) => j.id), page2.next], [[early[120]!.id], null]);
          // Following `next` to the end finds every match (the range may share its millisecond with the early jobs).
          const found: string[] = [];
          for (let after: string | undefined, calls = 0; calls === 0 || after !== undefined; calls++) {
            const page = await q.listPage({ payload: { path: 'user.id', equals: '12345' }, createdAfter: last, ...(after ? { after } : {}) });
            found.push(...page.jobs.map((j) => j.id));
            after = page.next ?? undefined;
          }
          assert.deepEqual(found, [late.id]);
          await assert.rejects(q.list({ createdAfter: 5, createdBefore: 4 }), (e: InvalidArgumentError) => e.field === 'createdBefore');
          await assert.rejects(q.list({ createdAfter: 1.5 }), (e: InvalidArgumentError) => e.field === 'createdAfter');
          await assert.rejects(q.list({ createdAftr: 1 } as never), /unknown option "createdAftr"; did you mean "createdAfter"\?/);
          await assert.rejects(q.list({ payload: { path: 'user..id', equals: 1 } }), (e: InvalidArgumentError) => e.field === 'payload.path');
          await assert.rejects(q.list({ payload: { path: 'user.id', equals: { a: 1 } } as never }), (e: InvalidArgumentError) => e.field === 'payload.equals');
          await assert.rejects(q.list({ payload: { path: 'user.id', equal: 1 } as never }), /unknown key "equal"; did you mean "equals"\?/);
          // A bulk action takes the same filters, one bounded scan per batch.
          const cancelled = await api.bulk('cancel', { queue: 'q', payload: { path: 'user.id', equals: 12345 } }, { after: page1.next! });
          assert.deepEqual(cancelled, { matched: 1, changed: 1, skipped: 0, next: null });
          assert.deepEqual((await q.list({ state: 'cancelled' })).map((j) => j.id), [early[120]!.id]);
          let ranged = await api.bulk('cancel', { queue: 'q', createdAfter: last, createdBefore: last, payload: { path: 'user.id', equals: '12345' } });
          if (ranged.next !== null) ranged = await api.bulk('cancel', { queue: 'q', createdAfter: last, payload: { path: 'user.id', equals: '12345' } }, { after: ranged.next });
          assert.deepEqual([ranged.changed, ranged.next], [1, null]);
          assert.equal((await api.get(late.id)).state, 'cancelled');
          assert.deepEqual(await api.bulk('cancel', { queue: 'q', createdBefore: first - 1 }), { matched: 0, changed: 0, skipped: 0, next: null });
        },
        { searchScanMax: 100 },
      ));

    it('queue settings are validated, named and persisted', () =>
      withHarness(target, async ({ api, store }) => {
        const q = api.queue('q');
        await assert.rejects(q.configure({ visibilityTimeoutMs: 5 }), /visibilityTimeoutMs must be at least 100 \(got 5\)/);
        await assert.rejects(q.configure({ maxAttempts: 0 }), /maxAttempts must be at least 1/);
        await assert.rejects(q.configure({ backoff: { type: 'linear' as never } }), /backoff.type must be 'fixed' or 'exponential'/);
        await assert.rejects(q.configure({ visibility: 1 } as never), /unknown queue setting "visibility"/);
        const c = await q.configure({ visibilityTimeoutMs: 5000, backoff: { type: 'fixed', delayMs: 10 } });
        assert.equal(c.visibilityTimeoutMs, 5000);
        assert.equal(c.maxAttempts, 5);
        assert.deepEqual(c.backoff, { type: 'fixed', delayMs: 10 });
        const stored = await store.queueGet('q');
        assert.deepEqual(stored!.config, c);
      }));

    it('deletes finished jobs after their retention, and keeps the rest', () =>
      withHarness(
        target,
        async ({ api, spool, clock }) => {
          const q = api.queue('q');
          await q.addMany([{ payload: 'done' }, { payload: 'dead' }, { payload: 'waiting' }]);
          const [a, b] = await spool.claim('q', 2);
          await api.ack({ jobId: a!.id, token: a!.leaseToken });
          await api.nack({ jobId: b!.id, token: b!.leaseToken }, 'x', { unrecoverable: true });
          await clock.advance(1500);
          assert.equal(await spool.cleanup(), 1);
          assert.deepEqual((await q.list()).map((j) => j.payload).sort(), ['dead', 'waiting']);
          await clock.advance(1000);
          assert.equal(await spool.cleanup(), 1);
          assert.deepEqual((await q.list()).map((j) => j.payload), ['waiting']);
        },
        { completedRetentionMs: 1000, deadRetentionMs: 2000 },
      ));
  });
}
