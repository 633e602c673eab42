import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { withHarness, type Harness, type HarnessTarget } from './harness.ts';
import { deferred, waitFor } from './worker.ts';

/** The queue's stats through the contract. */
async function statsOf(h: Harness, queue: string) {
  return h.api.stats(queue).then((s) => s[0]!);
}

/** Resource-aware dispatch: the add option `requires`, the worker option `tags`, least-loaded dealing, QueueStats.unservable. */
export function resourcesSuite(target: HarnessTarget): void {
  describe('resource-aware dispatch', () => {
    it('requires and tags are checked, and stored canonical (sorted, without repeats)', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const job = await q.add('x', { requires: ['region:eu', 'gpu', 'gpu'] });
        assert.deepEqual(job.requires, ['gpu', 'region:eu']);
        assert.deepEqual((await h.api.get(job.id)).requires, ['gpu', 'region:eu']);
        assert.deepEqual((await q.add('y')).requires, []);
        assert.deepEqual((await q.addMany([{ payload: 1, requires: ['ssd'] }]))[0]!.requires, ['ssd']);
        for (const bad of [['has space'], [''], ['a,b'], ['x'.repeat(65)], 'gpu', [5], Array.from({ length: 17 }, (_, i) => `t${i}`)]) {
          await assert.rejects(q.add('z', { requires: bad as string[] }), (e: Error) => e instanceof InvalidArgumentError && e.field === 'requires', JSON.stringify(bad));
        }
        assert.throws(() => q.work(async () => {}, { tags: ['no spaces'] }), (e: Error) => e instanceof InvalidArgumentError && e.field === 'tags');
      }));

    it('the pull claim takes tags too; without them it takes only jobs without requires', () =>
      withHarness(target, async (h) => {
        const pull = h.api.queue('pull');
        const g = await pull.add('g', { requires: ['gpu'] });
        const p = await pull.add('p');
        assert.deepEqual((await h.spool.claim('pull', 10)).map((j) => j.id), [p.id]);
        assert.deepEqual((await h.spool.claim('pull', 10, { tags: ['gpu'] })).map((j) => j.id), [g.id]);
        await assert.rejects(h.spool.claim('pull', 1, { tags: ['no spaces'] }), (e: Error) => e instanceof InvalidArgumentError && e.field === 'tags');
        await assert.rejects(h.spool.claim('pull', 1, { tag: ['gpu'] } as never), /did you mean "tags"\?/);
      }));

    it('a worker of a paused queue counts as live for unservable: it registers when it starts, not at its first claim', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('held');
        await q.add('g', { requires: ['gpu'] });
        await q.pause();
        assert.equal((await statsOf(h, 'held')).unservable, 1);
        const gpu = q.work(async () => {}, { tags: ['gpu'] });
        try {
          await waitFor(async () => (await statsOf(h, 'held')).unservable === 0, 20_000, 'the gpu worker to be announced');
          assert.equal((await statsOf(h, 'held')).counts.ready, 1, 'paused: nothing was claimed');
        } finally {
          await gpu.close();
        }
      }));

    it('a gpu worker and a plain one on a queue: gpu jobs run on the gpu worker alone, plain jobs on both; unservable counts the gpu jobs until a gpu worker is live', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue<{ n: number }>('render');
        const ranOn = new Map<string, string>();
        const gpuJobs = await q.addMany([1, 2, 3].map((n) => ({ payload: { n }, requires: ['gpu'] })));
        const plainJobs = await q.addMany([4, 5, 6, 7].map((n) => ({ payload: { n } })));
        const plain = q.work(async (job) => void ranOn.set(job.id, 'plain'), { concurrency: 2 });
        try {
          await waitFor(async () => (await statsOf(h, 'render')).counts.completed === 4, 20_000, 'the plain jobs to complete');
          await h.settled();
          const before = await statsOf(h, 'render');
          assert.equal(before.counts.ready, 3, 'the plain worker took none of the gpu jobs');
          assert.equal(before.unservable, 3, 'only a worker without tags is live: no worker can take them');
          assert.deepEqual(plainJobs.map((j) => ranOn.get(j.id)), ['plain', 'plain', 'plain', 'plain']);

          // The gpu worker runs one job at a time and holds gpu jobs until released: the other two stay ready,
          // and a live worker can take them.
          const release = deferred();
          const gpu = q.work(async (job: Job<{ n: number }>) => {
            ranOn.set(job.id, 'gpu');
            if (job.requires.includes('gpu')) await release.promise;
          }, { concurrency: 1, tags: ['gpu', 'region:eu'] });
          try {
            await waitFor(async () => (await statsOf(h, 'render')).counts.active === 1, 20_000, 'a gpu job to start');
            await waitFor(async () => (await statsOf(h, 'render')).unservable === 0, 20_000, 'the gpu worker to be announced');
            const during = await statsOf(h, 'render');
            assert.deepEqual([during.counts.ready, during.unservable], [2, 0]);
            release.resolve();
            await waitFor(async () => (await statsOf(h, 'render')).counts.completed === 7, 20_000, 'the gpu jobs to complete');
            assert.deepEqual(gpuJobs.map((j) => ranOn.get(j.id)), ['gpu', 'gpu', 'gpu'], 'every gpu job ran on the gpu worker');

            // Plain jobs go to either worker: the least loaded able one takes each.
            const more = await q.addMany(Array.from({ length: 12 }, (_, i) => ({ payload: { n: 100 + i } })));
            await waitFor(async () => (await statsOf(h, 'render')).counts.completed === 19, 20_000, 'the new plain jobs to complete');
            const on = new Set(more.map((j) => ranOn.get(j.id)));
            assert.deepEqual([...on].sort(), ['gpu', 'plain'], 'plain jobs ran on both workers');
          } finally {
            release.resolve();
            await gpu.close();
          }
          await h.settled();
          await q.add({ n: 99 }, { requires: ['gpu'] });
          await waitFor(async () => (await statsOf(h, 'render')).unservable === 1, 20_000, 'the gpu worker to be gone from the registry');
        } finally {
          await plain.close();
        }
      }));
  });
}
