import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, JobNotFoundError, PayloadTooLargeError, QueueNotFoundError } from '../../core/errors.ts';
import { jobIdTime } from '../../core/ids.ts';
import { withHarness, type Api, type HarnessTarget } from './harness.ts';

export function enqueueSuite(target: HarnessTarget): void {
  describe('enqueue', () => {
    it('stores a job with its fields and returns it', () =>
      withHarness(target, async ({ api, clock }) => {
        const job = await api.queue('emails').add({ to: 'a@example.com', n: 1 }, { name: 'welcome', priority: 3, maxAttempts: 7 });
        assert.equal(job.state, 'ready');
        const stored = await api.get(job.id);
        assert.deepEqual(stored.payload, { to: 'a@example.com', n: 1 });
        assert.equal(stored.queue, 'emails');
        assert.equal(stored.name, 'welcome');
        assert.equal(stored.priority, 3);
        assert.equal(stored.maxAttempts, 7);
        assert.equal(stored.attempt, 0);
        assert.equal(stored.leaseToken, 0);
        assert.equal(stored.createdAt, clock.now());
        assert.equal(stored.runAt, clock.now());
        assert.deepEqual(stored.history, []);
        assert.ok(jobIdTime(job.id) >= stored.createdAt, 'the id carries its creation time (or later, to stay monotonic)');
      }));

    it('round-trips every kind of JSON payload and result', () =>
      withHarness(target, async ({ api, spool }) => {
        const payloads: unknown[] = ['a string', '{"looks":"like json"}', 42, 1.5, true, null, [1, 'two', { three: 3 }], { nested: { deep: ['x'] }, unicode: 'é ✓ 日本' }];
        const q = api.queue('kinds');
        const added = await q.addMany(payloads.map((payload) => ({ payload })));
        for (const [i, job] of added.entries()) assert.deepEqual((await api.get(job.id)).payload, payloads[i]);
        const claimed = await spool.claim('kinds', payloads.length);
        assert.deepEqual(claimed.map((j) => j.payload), payloads);
        for (const [i, job] of claimed.entries()) await api.ack({ jobId: job.id, token: job.leaseToken }, payloads[i]);
        for (const [i, job] of claimed.entries()) assert.deepEqual((await api.get(job.id)).result, payloads[i]);
      }));

    it('gives ids that sort in creation order', () =>
      withHarness(target, async ({ api, clock }) => {
        const ids: string[] = [];
        for (let i = 0; i < 50; i++) {
          ids.push((await api.queue('q').add({ i })).id);
          if (i % 10 === 0) await clock.advance(1);
        }
        const jobs = await api.queue('q').addMany(Array.from({ length: 500 }, (_, i) => ({ payload: { i } })));
        ids.push(...jobs.map((j) => j.id));
        assert.deepEqual([...ids].sort(), ids);
        assert.equal(new Set(ids).size, ids.length);
      }));

    it('adds many atomically and in order', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('bulk');
        const jobs = await q.addMany(Array.from({ length: 2000 }, (_, i) => ({ payload: { i } })));
        assert.equal(jobs.length, 2000);
        assert.equal((await q.stats()).counts.ready, 2000);
        const listed = await q.list({ limit: 5 });
        assert.deepEqual(listed.map((j) => (j.payload as { i: number }).i), [0, 1, 2, 3, 4]);
      }));

    it('a bad item in addMany writes none of the batch', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('bulk');
        await assert.rejects(q.addMany([{ payload: 1 }, { payload: 2n as unknown as number }]), (e: Error) => e instanceof InvalidArgumentError && /items\[1\]/.test(e.message));
        await assert.rejects(q.stats(), QueueNotFoundError, 'not even the queue was made');
        await q.add(0);
        assert.equal((await q.stats()).counts.ready, 1);
      }));

    it('schedules a delayed job and makes it ready when due', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const q = api.queue('later');
        const job = await q.add({}, { delayMs: 5000 });
        assert.equal(job.state, 'scheduled');
        assert.equal(job.runAt, clock.now() + 5000);
        assert.deepEqual(await spool.claim('later', 10), []);
        await clock.advance(4999);
        assert.deepEqual(await spool.claim('later', 10), []);
        await clock.advance(1);
        const [claimed] = await spool.claim('later', 10);
        assert.equal(claimed?.id, job.id);
      }));

    it('accepts runAt as a Date and treats a past runAt as now', () =>
      withHarness(target, async ({ api, clock }) => {
        const q = api.queue('at');
        const future = await q.add({}, { runAt: new Date(clock.now() + 60_000) });
        assert.equal(future.state, 'scheduled');
        const past = await q.add({}, { runAt: clock.now() - 60_000 });
        assert.equal(past.state, 'ready');
        assert.equal(past.runAt, clock.now());
      }));

    it('promotes due jobs in maintenance even with no consumer', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const q = api.queue('later');
        await q.add({}, { delayMs: 1000 });
        assert.equal((await q.stats()).counts.scheduled, 1);
        await clock.advance(1000);
        await spool.runMaintenance();
        const s = await q.stats();
        assert.equal(s.counts.scheduled, 0);
        assert.equal(s.counts.ready, 1);
      }));
  });

  describe('bad input gets a named error and writes nothing', () => {
    const cases: [string, (s: Api) => Promise<unknown>, new (...a: any[]) => Error, RegExp][] = [
      ['oversized payload', (s) => s.queue('q').add({ big: 'x'.repeat(2 * 1024 * 1024) }), PayloadTooLargeError, /payloadMaxBytes/],
      ['BigInt payload', (s) => s.queue('q').add({ n: 1n }), InvalidArgumentError, /payload\.n is a BigInt \(1n\); JSON has no BigInt/],
      ['circular payload', (s) => { const o: Record<string, unknown> = {}; o.self = o; return s.queue('q').add(o); }, InvalidArgumentError, /payload\.self refers back to payload: a circular structure/],
      ['function payload', (s) => s.queue('q').add((() => 1) as unknown), InvalidArgumentError, /JSON-serialisable/],
      ['undefined payload', (s) => s.queue('q').add(undefined), InvalidArgumentError, /JSON-serialisable/],
      ['bad queue name', (s) => s.add('bad name!', {}), InvalidArgumentError, /queue name "bad name!" is not valid/],
      ['empty queue name', (s) => s.add('', {}), InvalidArgumentError, /queue name/],
      ['negative delay', (s) => s.queue('q').add({}, { delayMs: -5 }), InvalidArgumentError, /delayMs must be at least 0 \(got -5\)/],
      ['fractional priority', (s) => s.queue('q').add({}, { priority: 1.5 }), InvalidArgumentError, /priority must be an integer/],
      ['priority out of range', (s) => s.queue('q').add({}, { priority: 10_000_000 }), InvalidArgumentError, /priority must be at most 1000000/],
      ['delay and runAt together', (s) => s.queue('q').add({}, { delayMs: 1, runAt: Date.now() }), InvalidArgumentError, /not both/],
      ['unknown option', (s) => s.queue('q').add({}, { prio: 1 } as never), InvalidArgumentError, /unknown add option "prio"/],
      ['maxAttempts 0', (s) => s.queue('q').add({}, { maxAttempts: 0 }), InvalidArgumentError, /maxAttempts must be at least 1/],
      ['addMany not an array', (s) => s.queue('q').addMany({} as never), InvalidArgumentError, /array/],
      ['addMany over addManyMax', (s) => s.queue('q').addMany(Array.from({ length: 10_001 }, () => ({ payload: 1 }))), InvalidArgumentError, /^addMany got 10001 jobs, over the addManyMax limit of 10000; split the batch$/],
    ];
    for (const [what, call, ErrorClass, message] of cases) {
      it(what, () =>
        withHarness(target, async ({ api, store }) => {
          await assert.rejects(call(api), (e: Error) => {
            assert.ok(e instanceof ErrorClass, `expected ${ErrorClass.name}, got ${e.constructor.name}: ${e.message}`);
            assert.match(e.message, message);
            assert.match((e as unknown as { code: string }).code, /^[A-Z_]+$/);
            return true;
          });
          const stats = await api.stats();
          assert.equal(stats.reduce((n, s) => n + s.counts.ready + s.counts.scheduled, 0), 0, 'nothing was written');
          assert.deepEqual(await store.queueList(), [], 'not even a queue');
        }));
    }

    it('unknown and malformed job ids', () =>
      withHarness(target, async ({ api }) => {
        const unknown = '01900000-0000-7000-8000-000000000000';
        await assert.rejects(api.get(unknown), JobNotFoundError);
        await assert.rejects(api.cancel(unknown), JobNotFoundError);
        await assert.rejects(api.retry(unknown), JobNotFoundError);
        await assert.rejects(api.get('nope'), (e: Error) => e instanceof InvalidArgumentError && /not a job id/.test(e.message));
      }));

    it('a payload at the limit is accepted, one byte over is refused', () =>
      withHarness(
        target,
        async ({ api }) => {
          const q = api.queue('q');
          await q.add('x'.repeat(1024 - 2)); // 1024 bytes as JSON with its quotes
          await assert.rejects(q.add('x'.repeat(1024 - 1)), PayloadTooLargeError);
          await assert.rejects(q.add('é'.repeat(600)), PayloadTooLargeError); // 1202 bytes as UTF-8
          assert.equal((await q.stats()).counts.ready, 1);
        },
        { payloadMaxBytes: 1024 },
      ));
  });
}
