import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { LIMITS } from '../../core/limits.ts';
import { inProcessOnly, withHarness, type Harness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';

const ids = (jobs: readonly Job[]): string[] => jobs.map((j) => j.id);

/** Claims every ready job of `queue`, one at a time (each claim sees the jobs left), and acks it. */
async function drainOneByOne(h: Harness, queue: string, max = 10_000): Promise<Job[]> {
  const out: Job[] = [];
  for (let i = 0; i < max; i++) {
    const [job] = await h.spool.claim(queue, 1);
    if (!job) return out;
    out.push(job);
    await h.api.ack(lease(job));
  }
  return out;
}

/** A lease longer than any property run's time, so no claimed job comes back while the model thinks it gone. */
const LEASE_MS = LIMITS.visibilityTimeoutMs.max;

function assertRefused(err: unknown, field: string, message: RegExp): true {
  assert.ok(err instanceof InvalidArgumentError || (err as { code?: unknown }).code === 'INVALID_ARGUMENT', `an InvalidArgumentError, got ${String(err)}`);
  assert.equal((err as InvalidArgumentError).field, field);
  assert.match((err as Error).message, message);
  return true;
}

/** Scheduling policies per queue (docs/scheduling.md): their orders, their bounds, their settings. */
export function policiesSuite(target: HarnessTarget): void {
  describe('scheduling policies', () => {
    describe('settings', () => {
      it('fifo is the default; configure stores a policy and its parameters, and reads them back', () =>
        withHarness(target, async ({ api }) => {
          const q = api.queue('q');
          const defaults = await q.configure({});
          assert.equal(defaults.policy, 'fifo');
          assert.equal(defaults.agingMs, LIMITS.agingMs.default);
          assert.equal(defaults.sjfCostFactor, LIMITS.sjfCostFactor.default);
          assert.deepEqual(defaults.fairWeights, {});
          const set = await q.configure({ policy: 'fair', fairWeights: { acme: 2, 'ü tenant/1': 3 } });
          assert.equal(set.policy, 'fair');
          assert.deepEqual(set.fairWeights, { acme: 2, 'ü tenant/1': 3 });
          assert.equal((await q.config()).policy, 'fair');
          const kept = await q.configure({ agingMs: 500 });
          assert.equal(kept.policy, 'fair', 'a setting left out keeps its value');
          assert.equal(kept.agingMs, 500);
        }));

      it('an unknown policy, a misspelt setting and values out of bounds are refused, naming the nearest valid one or the bound', () =>
        withHarness(target, async ({ api }) => {
          const q = api.queue('q');
          await assert.rejects(q.configure({ policy: 'fiar' as never }), (e) => assertRefused(e, 'policy', /unknown scheduling policy "fiar"; did you mean 'fair'\?/));
          await assert.rejects(q.configure({ policy: 'priorty' as never }), (e) => assertRefused(e, 'policy', /did you mean 'priority'\?/));
          await assert.rejects(q.configure({ policy: 'lottery' as never }), (e) => assertRefused(e, 'policy', /one of 'fifo', 'priority', 'sjf', 'fair'/));
          await assert.rejects(q.configure({ policy: 3 as never }), (e) => assertRefused(e, 'policy', /unknown scheduling policy 3/));
          await assert.rejects(q.configure({ agingMS: 10 } as never), (e) => assertRefused(e, 'agingMS', /did you mean "agingMs"\?/));
          await assert.rejects(q.configure({ fairWeight: {} } as never), (e) => assertRefused(e, 'fairWeight', /did you mean "fairWeights"\?/));
          await assert.rejects(q.configure({ agingMs: 0 }), (e) => assertRefused(e, 'agingMs', /agingMs must be at least 1 \(got 0\)/));
          await assert.rejects(q.configure({ agingMs: LIMITS.agingMs.max + 1 }), (e) => assertRefused(e, 'agingMs', /at most 86400000/));
          await assert.rejects(q.configure({ sjfCostFactor: 0.5 }), (e) => assertRefused(e, 'sjfCostFactor', /must be an integer/));
          await assert.rejects(q.configure({ sjfLearnPct: 101 }), (e) => assertRefused(e, 'sjfLearnPct', /at most 100/));
          await assert.rejects(q.configure({ fairWeights: [] as never }), (e) => assertRefused(e, 'fairWeights', /must be an object of group → weight/));
          await assert.rejects(q.configure({ fairWeights: { acme: 0 } }), (e) => assertRefused(e, 'fairWeights["acme"]', /at least 1 \(got 0\)/));
          await assert.rejects(q.configure({ fairWeights: { acme: 1001 } }), (e) => assertRefused(e, 'fairWeights["acme"]', /at most 1000/));
          await assert.rejects(q.configure({ fairWeights: { '': 2 } }), (e) => assertRefused(e, 'fairWeights', /is not a group name/));
          const many = Object.fromEntries(Array.from({ length: LIMITS.fairWeightsMax.max + 1 }, (_, i) => [`g${i}`, 1]));
          await assert.rejects(q.configure({ fairWeights: many }), (e) => assertRefused(e, 'fairWeights', /at most 1000 groups/));
          assert.equal((await q.configure({})).policy, 'fifo', 'nothing refused was stored');
        }));

      it('the cost add option is stored and returned; a cost that is not a positive finite number within its limit is refused', () =>
        withHarness(target, async ({ api }) => {
          const q = api.queue('q');
          const a = await q.add(1, { cost: 250 });
          const b = await q.add(2, { cost: 0.5 });
          const none = await q.add(3);
          assert.equal(a.cost, 250);
          assert.equal((await api.get(a.id)).cost, 250);
          assert.equal((await api.get(b.id)).cost, 0.5);
          assert.equal(none.cost, null);
          assert.equal((await api.get(none.id)).cost, null);
          assert.deepEqual((await q.addMany([{ payload: 4, cost: 7 }, { payload: 5 }])).map((j) => j.cost), [7, null]);
          for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5', LIMITS.cost.max + 1]) {
            await assert.rejects(q.add(0, { cost: bad as number }), (e) => assertRefused(e, 'cost', /cost must be/), `cost ${String(bad)}`);
          }
          await assert.rejects(q.add(0, { cots: 5 } as never), (e) => assertRefused(e, 'cots', /did you mean "cost"\?/));
        }));
    });

    describe('fifo', () => {
      it('ignores cost and waiting time: priority classes strictly, first come first served inside one', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          const old = await q.add('old', { priority: 0, cost: 1 });
          await h.clock.advance(60_000);
          const high = await q.add('high', { priority: 1, cost: 1000 });
          const low = await q.add('low', { priority: 0 });
          assert.deepEqual(ids(await drainOneByOne(h, 'q')), ids([high, old, low]));
        }));
    });

    describe('priority (with aging)', () => {
      it('a waiting job gains one level per agingMs: an old low-priority job overtakes newer higher ones', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.configure({ policy: 'priority', agingMs: 1000 });
          const low = await q.add('low', { priority: 0 });
          await h.clock.advance(5_000);
          const mid = await q.add('mid', { priority: 3 }); // 3 < 0 + 5 s / 1 s: low has aged past it
          const top = await q.add('top', { priority: 10 }); // 10 > 5: still ahead of low
          const same = await q.add('same', { priority: 5 }); // a tie: the older ready time (low) first
          assert.deepEqual(ids(await drainOneByOne(h, 'q')), ids([top, low, same, mid]));
        }));

      it('a released or retried job keeps its place (its key); a delayed job ages from its run time', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.configure({ policy: 'priority', agingMs: 1000, backoff: { type: 'fixed', delayMs: 0 } });
          const first = await q.add('first');
          const delayed = await q.add('delayed', { delayMs: 2_000 });
          await h.clock.advance(1_000);
          const second = await q.add('second');
          const [got] = await h.spool.claim('q', 1);
          assert.equal(got!.id, first.id);
          await h.api.release(lease(got!));
          const [again] = await h.spool.claim('q', 1);
          assert.equal(again!.id, first.id, 'released: first again');
          await h.api.nack(lease(again!), new Error('try again'));
          await h.clock.advance(5_000);
          assert.deepEqual(ids(await drainOneByOne(h, 'q')), ids([first, second, delayed]));
        }));

      it('property: each claim takes the job of highest aged priority, so the lowest level waits at most (top − its level) × agingMs behind later jobs', { timeout: 300_000 }, () =>
        withHarness(target, async (h) => {
          const agingMs = 1000;
          const maxPriority = 5;
          const step = fc.record({ advanceMs: fc.integer({ min: 0, max: 1500 }), priority: fc.integer({ min: 1, max: maxPriority }), adds: fc.integer({ min: 0, max: 3 }), claims: fc.integer({ min: 0, max: 2 }) });
          let run = 0;
          await fc.assert(
            fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 25 }), async (steps) => {
              const name = `aging-${run++}`;
              const q = h.api.queue(name);
              await q.configure({ policy: 'priority', agingMs, visibilityTimeoutMs: LEASE_MS });
              const key = (j: Job) => j.runAt - j.priority * agingMs;
              const waiting: Job[] = [];
              const low = await q.add('low', { priority: 0 });
              waiting.push(low);
              const claimed: Job[] = [];
              const claimOne = async () => {
                const [got] = await h.spool.claim(name, 1);
                if (waiting.length === 0) return assert.equal(got, undefined);
                const expected = waiting.reduce((a, b) => (key(b) < key(a) || (key(b) === key(a) && b.id < a.id) ? b : a));
                assert.equal(got?.id, expected.id, 'the claim takes the lowest key (highest aged priority)');
                waiting.splice(waiting.indexOf(expected), 1);
                claimed.push(got!);
              };
              for (const s of steps) {
                await h.clock.advance(s.advanceMs);
                for (let i = 0; i < s.adds; i++) waiting.push(await q.add('flood', { priority: s.priority }));
                for (let i = 0; i < s.claims; i++) await claimOne();
              }
              while (waiting.length > 0) await claimOne();
              const before = claimed.slice(0, claimed.findIndex((j) => j.id === low.id));
              for (const j of before) {
                assert.ok(j.runAt <= low.runAt + maxPriority * agingMs, `a job added ${j.runAt - low.runAt} ms after the lowest went first: over the bound`);
              }
            }),
            { numRuns: 12 },
          );
        }));
    });

    describe('sjf (shortest job first)', () => {
      it('serves declared costs shortest first; jobs without a cost use the learned estimate of their name', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.configure({ policy: 'sjf', sjfCostFactor: 1, sjfLearnPct: 50 });
          const c500 = await q.add('c500', { cost: 500 });
          const c100 = await q.add('c100', { cost: 100 });
          const c300 = await q.add('c300', { cost: 300 });
          assert.deepEqual(ids(await drainOneByOne(h, 'q')), ids([c100, c300, c500]));

          // Learn: a "slow" run of 4 s, then one of 2 s (estimate 4000 + 50 % of −2000 = 3000), and a "fast" one of 10 ms.
          for (const [name, ms] of [['slow', 4000], ['slow', 2000], ['fast', 10]] as const) {
            await q.add(name, { name });
            const [job] = await h.spool.claim('q', 1);
            await h.clock.advance(ms);
            await h.api.ack(lease(job!));
          }
          await h.settled();
          assert.equal(await h.store.runEstimateGet('q', 'slow'), 3000);
          assert.equal(await h.store.runEstimateGet('q', 'fast'), 10);
          assert.equal(await h.store.runEstimateGet('q', 'never'), null);
          const slow = await q.add('slow', { name: 'slow' });
          const fast = await q.add('fast', { name: 'fast' });
          const unknown = await q.add('new', { name: 'never-seen' }); // no estimate yet: cost 0, tried first to learn it
          const declared = await q.add('declared', { name: 'slow', cost: 1 }); // a declared cost wins over the estimate
          assert.deepEqual(ids(await drainOneByOne(h, 'q')), ids([unknown, declared, fast, slow]));
        }));

      it('aging bounds a long job: it is served before short jobs that became ready more than cost × sjfCostFactor after it', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.configure({ policy: 'sjf', sjfCostFactor: 2 });
          const long = await q.add('long', { cost: 10_000 });
          await h.clock.advance(19_997);
          const early = await q.add('early', { cost: 1 }); // 19_997 + 2 < 10_000 × 2: ahead of long
          await h.clock.advance(2);
          const late = await q.add('late', { cost: 1 }); // 19_999 + 2 > 10_000 × 2: behind long
          assert.deepEqual(ids(await drainOneByOne(h, 'q')), ids([early, long, late]));
        }));

      it('fifo queues learn nothing (the ack path is unchanged)', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.add('x', { name: 'x' });
          const [job] = await h.spool.claim('q', 1);
          await h.clock.advance(100);
          await h.api.ack(lease(job!));
          await h.settled();
          assert.equal(await h.store.runEstimateGet('q', 'x'), null);
        }));

      it('property: each claim takes the lowest ready time + cost × factor, so a long job waits at most its cost × factor behind later jobs', { timeout: 300_000 }, () =>
        withHarness(target, async (h) => {
          const factor = 3;
          const step = fc.record({ advanceMs: fc.integer({ min: 0, max: 3000 }), cost: fc.integer({ min: 1, max: 1000 }), adds: fc.integer({ min: 0, max: 3 }), claims: fc.integer({ min: 0, max: 2 }) });
          let run = 0;
          await fc.assert(
            fc.asyncProperty(fc.integer({ min: 1000, max: 5000 }), fc.array(step, { minLength: 5, maxLength: 25 }), async (longCost, steps) => {
              const name = `sjf-${run++}`;
              const q = h.api.queue(name);
              await q.configure({ policy: 'sjf', sjfCostFactor: factor, visibilityTimeoutMs: LEASE_MS });
              const key = (j: Job) => j.runAt + j.cost! * factor;
              const long = await q.add('long', { cost: longCost });
              const waiting: Job[] = [long];
              const claimed: Job[] = [];
              const claimOne = async () => {
                const [got] = await h.spool.claim(name, 1);
                if (waiting.length === 0) return assert.equal(got, undefined);
                const expected = waiting.reduce((a, b) => (key(b) < key(a) || (key(b) === key(a) && b.id < a.id) ? b : a));
                assert.equal(got?.id, expected.id, 'the claim takes the lowest ready time + cost × factor');
                waiting.splice(waiting.indexOf(expected), 1);
                claimed.push(got!);
              };
              for (const s of steps) {
                await h.clock.advance(s.advanceMs);
                for (let i = 0; i < s.adds; i++) waiting.push(await q.add('short', { cost: s.cost }));
                for (let i = 0; i < s.claims; i++) await claimOne();
              }
              while (waiting.length > 0) await claimOne();
              for (const j of claimed.slice(0, claimed.findIndex((c) => c.id === long.id))) {
                assert.ok(j.runAt <= long.runAt + longCost * factor, `a job added ${j.runAt - long.runAt} ms after the long one went first: over the bound`);
              }
            }),
            { numRuns: 12 },
          );
        }));
    });

    describe('fair (share across groups)', () => {
      it('interleaves a small group with a flood of another, jobs without a group forming one group', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.configure({ policy: 'fair' });
          const flood = await q.addMany(Array.from({ length: 30 }, (_, i) => ({ payload: i, group: 'acme' })));
          const small = await q.addMany(Array.from({ length: 3 }, (_, i) => ({ payload: i, group: 'globex' })));
          const plain = await q.addMany([{ payload: 'a' }, { payload: 'b' }]);
          const order = ids(await drainOneByOne(h, 'q'));
          const last = (jobs: Job[]) => Math.max(...jobs.map((j) => order.indexOf(j.id)));
          // Tags: acme 1…30; globex and the jobs without a group, arriving with acme's first job ready, 2, 3, 4 and 2, 3.
          assert.ok(last(small) < 10, `globex's 3 jobs served among the first 10 (at ${last(small)})`);
          assert.ok(last(plain) < 10, `the 2 jobs without a group served among the first 10 (at ${last(plain)})`);
          assert.deepEqual(order.filter((id) => ids(flood).includes(id)), ids(flood), 'a group is served in its own order');
        }));

      it('weights: a group of weight 3 gets three dispatches for one of weight 1 while both wait', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.configure({ policy: 'fair', fairWeights: { gold: 3 } });
          await q.addMany(Array.from({ length: 40 }, (_, i) => ({ payload: i, group: 'basic' })));
          await q.addMany(Array.from({ length: 40 }, (_, i) => ({ payload: i, group: 'gold' })));
          const first20 = await h.spool.claim('q', 20);
          const gold = first20.filter((j) => j.group === 'gold').length;
          assert.ok(gold >= 14 && gold <= 16, `about 15 of 20 to gold (got ${gold})`);
        }));

      it('property: a group arriving behind another group\'s flood is served within n × (1 + w_flood / w_group) + 2 dispatches', { timeout: 300_000 }, () =>
        withHarness(target, async (h) => {
          let run = 0;
          await fc.assert(
            fc.asyncProperty(
              fc.integer({ min: 20, max: 1500 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 10 }),
              async (floodSize, n, wFlood, wGroup, servedFirst) => {
                const name = `fair-${run++}`;
                const q = h.api.queue(name);
                await q.configure({ policy: 'fair', fairWeights: { flood: wFlood, late: wGroup } });
                for (let i = 0; i < floodSize; i += 1000) {
                  await q.addMany(Array.from({ length: Math.min(1000, floodSize - i) }, (_, k) => ({ payload: i + k, group: 'flood' })));
                }
                if (servedFirst > 0) await h.spool.claim(name, servedFirst);
                const late = new Set(ids(await q.addMany(Array.from({ length: n }, (_, k) => ({ payload: k, group: 'late' })))));
                const bound = Math.ceil(n * (1 + wFlood / wGroup)) + 2;
                let dispatches = 0;
                while (late.size > 0) {
                  const [job] = await h.spool.claim(name, 1);
                  assert.ok(job, 'jobs are left');
                  dispatches++;
                  late.delete(job.id);
                  assert.ok(dispatches <= bound, `the late group not served within ${bound} dispatches`);
                }
              },
            ),
            { numRuns: 10 },
          );
        }));

      inProcessOnly(target, 'volume: 100,000 jobs; the wire is proven by the smaller fair tests')(
        'a 100-job tenant added behind a 100,000-job flood of another is fully served within 2 × 100 + 2 dispatches',
        { timeout: 600_000 },
        () =>
          withHarness(target, async (h) => {
            const q = h.api.queue('q');
            await q.configure({ policy: 'fair' });
            for (let i = 0; i < 100_000; i += 10_000) {
              await q.addMany(Array.from({ length: 10_000 }, (_, k) => ({ payload: i + k, group: 'flood' })));
            }
            const tenant = new Set(ids(await q.addMany(Array.from({ length: 100 }, (_, k) => ({ payload: k, group: 'tenant' })))));
            let dispatches = 0;
            while (tenant.size > 0) {
              const jobs = await h.spool.claim('q', 10);
              for (const j of jobs) {
                dispatches++;
                tenant.delete(j.id);
                if (tenant.size === 0) break;
              }
              assert.ok(dispatches <= 202, `served within 202 dispatches (at ${dispatches}, ${tenant.size} left)`);
            }
          }),
      );
    });

    describe('a change of policy', () => {
      it('reorders the waiting jobs at once (one statement), and back to fifo', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          const old = await q.add('old', { priority: 0, cost: 900 });
          await h.clock.advance(10_000);
          const high = await q.add('high', { priority: 5, cost: 500 });
          const cheap = await q.add('cheap', { priority: 0, cost: 1 });
          await q.configure({ policy: 'priority', agingMs: 1000 }); // old: 10 levels of waiting > 5
          const [first] = await h.spool.claim('q', 1);
          assert.equal(first!.id, old.id);
          await h.api.release(lease(first!));
          await q.configure({ policy: 'sjf', sjfCostFactor: 100 }); // runAt + cost × 100: cheap (+100) first
          const [second] = await h.spool.claim('q', 1);
          assert.equal(second!.id, cheap.id);
          await h.api.release(lease(second!));
          await q.configure({ policy: 'fifo' });
          assert.deepEqual(ids(await drainOneByOne(h, 'q')), ids([high, old, cheap]));
        }));

      it('to fair: each group\'s waiting jobs in id order, interleaved from the change on', () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          const a = await q.addMany(Array.from({ length: 6 }, (_, i) => ({ payload: i, group: 'a' })));
          const b = await q.addMany(Array.from({ length: 3 }, (_, i) => ({ payload: i, group: 'b' })));
          await q.configure({ policy: 'fair' });
          const order = ids(await drainOneByOne(h, 'q'));
          assert.deepEqual(order, ids([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!, a[3]!, a[4]!, a[5]!]));
        }));
    });

    it('orders through workers too: a worker of a priority queue gets the aged job first', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ policy: 'priority', agingMs: 100 });
        await q.add('low', { priority: 0 });
        await h.clock.advance(1_000);
        await q.add('high', { priority: 5 });
        const seen: unknown[] = [];
        const worker = q.work(async (job) => void seen.push(job.payload), { concurrency: 1 });
        for (let i = 0; i < 200 && seen.length < 2; i++) await h.settled();
        await worker.close();
        assert.deepEqual(seen, ['low', 'high']);
      }));
  });
}

