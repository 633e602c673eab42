import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { withHarness, type Harness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';

const LEASE_MS = 10_000;

/** How many of `jobs` have each concurrency key (unkeyed jobs under '-'). */
function perKey(jobs: readonly Job[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const j of jobs) out[j.concurrencyKey ?? '-'] = (out[j.concurrencyKey ?? '-'] ?? 0) + 1;
  return out;
}

/** The queue's active jobs, read through the contract. */
async function active(h: Harness, queue: string): Promise<Job[]> {
  return h.api.list(queue, { state: 'active', limit: 1000 });
}

/** Workers whose handlers wait for `finish`, so the test decides when each job ends. */
function heldWorkers(h: Harness, queue: string, count: number, concurrency: number) {
  const running = new Map<string, { job: Job; done: () => void }>();
  const maxPerKey: Record<string, number> = {};
  const workers = Array.from({ length: count }, () =>
    h.api.queue(queue).work(async (job) => {
      await new Promise<void>((done) => {
        running.set(job.id, { job, done });
        const now = perKey([...running.values()].map((r) => r.job));
        for (const [k, n] of Object.entries(now)) maxPerKey[k] = Math.max(maxPerKey[k] ?? 0, n);
      });
      running.delete(job.id);
    }, { concurrency }),
  );
  return {
    running: () => [...running.values()].map((r) => r.job),
    maxPerKey,
    finishAll: () => { for (const r of running.values()) r.done(); },
    close: () => Promise.all(workers.map((w) => w.close())),
  };
}

/** Per-key concurrency limits (queue settings concurrencyLimit, concurrencyLimits; add option concurrencyKey) and group FIFO (groupFifo). */
export function concurrencySuite(target: HarnessTarget): void {
  describe('per-key concurrency', () => {
    it('the settings: none by default, stored and read back, refused with the field named; the add option is stored on the job', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const base = await q.configure({ maxAttempts: 3 });
        assert.deepEqual([base.concurrencyLimit, base.concurrencyLimits, base.groupFifo], [null, {}, false]);
        const set = await q.configure({ concurrencyLimit: 2, concurrencyLimits: { 'tenant-a': 5 }, groupFifo: true });
        assert.deepEqual([set.concurrencyLimit, set.concurrencyLimits, set.groupFifo], [2, { 'tenant-a': 5 }, true]);
        const read = await h.api.queueConfig('q');
        assert.deepEqual([read.concurrencyLimit, read.concurrencyLimits, read.groupFifo], [2, { 'tenant-a': 5 }, true]);
        assert.equal((await q.configure({ concurrencyLimit: 0 })).concurrencyLimit, null, '0 is none');
        assert.equal((await q.configure({ concurrencyLimit: null })).concurrencyLimit, null);
        const refused = async (input: Record<string, unknown>, field: string, message: RegExp) =>
          assert.rejects(q.configure(input as never), (e: Error) => e instanceof InvalidArgumentError && e.field === field && message.test(e.message), JSON.stringify(input));
        await refused({ concurrencyLimit: -1 }, 'concurrencyLimit', /at least 0/);
        await refused({ concurrencyLimit: 1.5 }, 'concurrencyLimit', /integer/);
        await refused({ concurrencyLimits: { a: 0 } }, 'concurrencyLimits["a"]', /at least 1/);
        await refused({ concurrencyLimits: [] }, 'concurrencyLimits', /object/);
        await refused({ groupFifo: 'yes' }, 'groupFifo', /true or false/);
        await refused({ concurencyLimit: 1 }, 'concurencyLimit', /did you mean "concurrencyLimit"\?/);
        const job = await q.add('x', { concurrencyKey: 'tenant-a' });
        assert.equal(job.concurrencyKey, 'tenant-a');
        assert.equal((await h.api.get(job.id)).concurrencyKey, 'tenant-a');
        assert.equal((await q.add('y')).concurrencyKey, null);
        for (const bad of ['', 'x'.repeat(129), 5]) {
          await assert.rejects(q.add('z', { concurrencyKey: bad as string }), (e: Error) => e instanceof InvalidArgumentError && e.field === 'concurrencyKey', String(bad));
        }
      }));

    it('a batch claim takes at most the limit of each key, jobs without a key unaffected; nothing more until a slot frees', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ concurrencyLimit: 2 });
        await q.addMany([
          ...Array.from({ length: 5 }, (_, i) => ({ payload: i, concurrencyKey: 'a' })),
          ...Array.from({ length: 3 }, (_, i) => ({ payload: i, concurrencyKey: 'b' })),
          ...Array.from({ length: 3 }, (_, i) => ({ payload: i })),
        ]);
        const got = await h.spool.claim('q', 100);
        assert.deepEqual(perKey(got), { a: 2, b: 2, '-': 3 });
        assert.deepEqual(await h.spool.claim('q', 100), [], 'every key at its limit');
        assert.deepEqual(perKey(await active(h, 'q')), { a: 2, b: 2, '-': 3 });
      }));

    it('slots are freed by ack, nack, release and a reaped lease, and only those', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ concurrencyLimit: 1, visibilityTimeoutMs: LEASE_MS, backoff: { type: 'fixed', delayMs: 0 } });
        await q.addMany(Array.from({ length: 6 }, (_, i) => ({ payload: i, concurrencyKey: 'k' })));
        const one = async (): Promise<Job> => {
          const got = await h.spool.claim('q', 10);
          assert.equal(got.length, 1, 'one at a time');
          assert.deepEqual(await h.spool.claim('q', 10), [], 'the key is at its limit');
          return got[0]!;
        };
        await h.api.ack(lease(await one()));
        await h.api.nack(lease(await one()), new Error('again'));
        await h.api.release(lease(await one()));
        await one();
        await h.clock.advance(LEASE_MS + 1);
        await h.spool.runMaintenance();
        await h.settled();
        const after = await one();
        assert.equal((await active(h, 'q')).length, 1, 'the reaped lease left its slot');
        await h.api.cancel(after.id);
        await one();
      }));

    it('per-key overrides: a key named in concurrencyLimits has its own limit; without concurrencyLimit others are unlimited', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ concurrencyLimit: 1, concurrencyLimits: { vip: 3 } });
        await q.addMany(['a', 'a', 'vip', 'vip', 'vip', 'vip'].map((k) => ({ payload: k, concurrencyKey: k })));
        assert.deepEqual(perKey(await h.spool.claim('q', 100)), { a: 1, vip: 3 });
        const r = h.api.queue('r');
        await r.configure({ concurrencyLimits: { slow: 1 } });
        await r.addMany(['slow', 'slow', 'fast', 'fast', 'fast'].map((k) => ({ payload: k, concurrencyKey: k })));
        assert.deepEqual(perKey(await h.spool.claim('r', 100)), { slow: 1, fast: 3 });
      }));

    it('several workers together never pass a key\'s limit', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ concurrencyLimit: 2 });
        await q.addMany([
          ...Array.from({ length: 8 }, (_, i) => ({ payload: i, concurrencyKey: 'a' })),
          ...Array.from({ length: 8 }, (_, i) => ({ payload: i, concurrencyKey: 'b' })),
          ...Array.from({ length: 4 }, (_, i) => ({ payload: i })),
        ]);
        const w = heldWorkers(h, 'q', 3, 4);
        await h.settled();
        for (let round = 0; round < 12 && (await q.stats()).counts.completed < 20; round++) {
          const now = perKey(w.running());
          assert.ok((now.a ?? 0) <= 2 && (now.b ?? 0) <= 2, `at most 2 per key: ${JSON.stringify(now)}`);
          w.finishAll();
          await h.settled();
        }
        assert.equal((await q.stats()).counts.completed, 20, 'every job ran');
        assert.deepEqual([w.maxPerKey.a, w.maxPerKey.b], [2, 2]);
        await w.close();
      }));

    it('with a rate limit: a token is taken per job leased, none for jobs a claim could not lease (keys at their limits)', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ concurrencyLimit: 1, rateLimit: { rate: 1, perMs: 60_000, burst: 3 } });
        await q.addMany(Array.from({ length: 5 }, (_, i) => ({ payload: i, concurrencyKey: 'k' })));
        for (let i = 0; i < 3; i++) {
          const got = await h.spool.claim('q', 3);
          assert.equal(got.length, 1, `claim ${i}: one job of the key (one token taken: ${i} used before)`);
          await h.settled();
          await h.api.ack(lease(got[0]!));
        }
        assert.deepEqual(await h.spool.claim('q', 3), [], 'the burst is spent: three jobs started, whatever the key allowed');
        assert.equal((await q.stats()).counts.ready, 2);
      }));

    // A claim that cannot take any key to its limit is the plain claim (concurrency-claim.ts, cannotBind);
    // one that could is picked job by job: the boundary between the two.
    it('a limit far above what runs takes whole claims; near it, a claim takes only up to it', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ concurrencyLimit: 5, concurrencyLimits: { big: 1000 } });
        await q.addMany(Array.from({ length: 10 }, (_, i) => ({ payload: i, concurrencyKey: 'a' })));
        assert.deepEqual(perKey(await h.spool.claim('q', 3)), { a: 3 }, 'active 0 + 3 within the limit');
        assert.deepEqual(perKey(await h.spool.claim('q', 3)), { a: 2 }, 'active 3: only 2 more fit');
        assert.deepEqual(await h.spool.claim('q', 3), []);
        await q.addMany(Array.from({ length: 40 }, (_, i) => ({ payload: i, concurrencyKey: 'big' })));
        assert.deepEqual(perKey(await h.spool.claim('q', 30)), { big: 30 });
        assert.deepEqual(perKey(await active(h, 'q')), { a: 5, big: 30 });
      }));

    // Claims racing at the boundary: each alone could take a whole claim (a limit that cannot bind
    // at active 0), together they cannot. On a store whose claims run at once (PostgreSQL's pool),
    // each must count the leases of those that committed before it (the claim lock).
    it('claims racing at a limit that no single one can pass take, together, no more than it', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ concurrencyLimit: 10 });
        await q.addMany(Array.from({ length: 60 }, (_, i) => ({ payload: i, concurrencyKey: 'a' })));
        for (let round = 0; round < 3; round++) {
          const got = (await Promise.all(Array.from({ length: 6 }, () => h.spool.claim('q', 6)))).flat();
          assert.equal(got.length, 10, `round ${round}: the six claims together took the limit, no more (${got.length})`);
          assert.deepEqual(perKey(await active(h, 'q')), { a: 10 });
          for (const job of got) await h.api.ack(lease(job));
          await h.settled();
        }
      }));

    // A claim reads the ready jobs a window at a time in claim order (concurrency-claim.ts): jobs
    // of keys at their limits beyond the first window must not hide the jobs behind them.
    for (const policy of ['fifo', 'priority'] as const) {
      it(`under policy ${policy}, hundreds of jobs of a key at its limit ahead of the others: a claim passes over them all, in claim order`, () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.configure({ policy, concurrencyLimit: 1 });
          await q.addMany(Array.from({ length: 600 }, (_, i) => ({ payload: i, concurrencyKey: 'a', priority: 5 })));
          const later = await q.addMany(['b', 'c', 'b', 'c', null, null, null].map((k, i) => ({ payload: i, ...(k ? { concurrencyKey: k } : {}) })));
          const got = await h.spool.claim('q', 10);
          assert.deepEqual(perKey(got), { a: 1, b: 1, c: 1, '-': 3 });
          const first = [later[0]!, later[1]!, ...later.slice(4)].map((j) => j.id);
          assert.deepEqual(got.filter((j) => j.concurrencyKey !== 'a').map((j) => j.id).sort(), first.sort(), 'the first job of each key');
          assert.equal(got.find((j) => j.concurrencyKey === 'a')!.payload, 0, 'the first of the held key');
          assert.deepEqual(await h.spool.claim('q', 10), [], 'every key at its limit, the rest of the backlog passed over');
        }));
    }

    for (const policy of ['priority', 'sjf', 'fair'] as const) {
      it(`holds under policy ${policy} (the claim by sort key)`, () =>
        withHarness(target, async (h) => {
          const q = h.api.queue('q');
          await q.configure({ policy, concurrencyLimit: 1, concurrencyLimits: { b: 2 } });
          await q.addMany([
            ...Array.from({ length: 3 }, (_, i) => ({ payload: i, concurrencyKey: 'a', group: 'g1' })),
            ...Array.from({ length: 3 }, (_, i) => ({ payload: i, concurrencyKey: 'b', group: 'g2' })),
            { payload: 'free' },
          ]);
          assert.deepEqual(perKey(await h.spool.claim('q', 100)), { a: 1, b: 2, '-': 1 });
          assert.deepEqual(await h.spool.claim('q', 100), []);
        }));
    }
  });

  describe('FIFO per group', () => {
    it('one job of a group at a time, in the order of the adds whatever their priority; jobs without a group unaffected', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ groupFifo: true });
        const a1 = await q.add('a1', { group: 'A' });
        const b1 = await q.add('b1', { group: 'B' });
        const a2 = await q.add('a2', { group: 'A', priority: 10 });
        const b2 = await q.add('b2', { group: 'B' });
        const u1 = await q.add('u1');
        const u2 = await q.add('u2');
        const first = await h.spool.claim('q', 100);
        assert.deepEqual(first.map((j) => j.id).sort(), [a1.id, b1.id, u1.id, u2.id].sort());
        assert.deepEqual(await h.spool.claim('q', 100), [], 'each group has a job active');
        await h.api.ack(lease(first.find((j) => j.id === a1.id)!));
        assert.deepEqual((await h.spool.claim('q', 100)).map((j) => j.id), [a2.id], 'A\'s next, in add order');
        await h.api.ack(lease(first.find((j) => j.id === b1.id)!));
        assert.deepEqual((await h.spool.claim('q', 100)).map((j) => j.id), [b2.id]);
      }));

    it('a job waiting for its retry holds its group back until it is done or dead', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ groupFifo: true, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 1000 } });
        const a1 = await q.add('a1', { group: 'A' });
        const a2 = await q.add('a2', { group: 'A' });
        const a3 = await q.add('a3', { group: 'A' });
        const [got] = await h.spool.claim('q', 10);
        assert.equal(got!.id, a1.id);
        assert.equal(await h.api.nack(lease(got!), new Error('once')), 'scheduled');
        assert.deepEqual(await h.spool.claim('q', 10), [], 'a1 waits out its backoff: a2 must not overtake it');
        await h.clock.advance(1000);
        const [again] = await h.spool.claim('q', 10);
        assert.equal(again!.id, a1.id, 'the retry first');
        assert.equal(await h.api.nack(lease(again!), new Error('twice')), 'dead');
        const [next] = await h.spool.claim('q', 10);
        assert.equal(next!.id, a2.id, 'a dead job no longer holds its group');
        await h.api.release(lease(next!));
        const [same] = await h.spool.claim('q', 10);
        assert.equal(same!.id, a2.id, 'a released job keeps its place');
        await h.api.ack(lease(same!));
        assert.equal((await h.spool.claim('q', 10))[0]!.id, a3.id);
      }));

    it('combines with per-key limits and with a policy', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ groupFifo: true, concurrencyLimit: 1, policy: 'fair' });
        await q.add('a1', { group: 'A', concurrencyKey: 'k' });
        await q.add('b1', { group: 'B', concurrencyKey: 'k' });
        await q.add('c1', { group: 'C', concurrencyKey: 'other' });
        const got = await h.spool.claim('q', 10);
        assert.deepEqual(perKey(got), { k: 1, other: 1 }, 'one per group and one per key');
      }));
  });

  describe('properties', () => {
    it('property: random adds, claims, settles and clock moves never put more than a key\'s limit active, nor two of a group under groupFifo, nor a group out of order', { timeout: 300_000 }, () =>
      withHarness(target, async (h) => {
        const op = fc.oneof(
          fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom('a', 'b', 'c', null), group: fc.constantFrom('G', 'H', null), delayMs: fc.constantFrom(0, 0, 0, 500) }),
          fc.record({ kind: fc.constant('claim' as const), n: fc.integer({ min: 1, max: 5 }) }),
          fc.record({ kind: fc.constantFrom('ack' as const, 'nack' as const, 'release' as const), pick: fc.nat() }),
          fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(300, 1000, LEASE_MS + 1) }),
        );
        let run = 0;
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.constantFrom('fifo' as const, 'fair' as const), fc.array(op, { minLength: 5, maxLength: 40 }), async (limit, groupFifo, policy, ops) => {
            const name = `prop-${run++}`;
            const q = h.api.queue(name);
            await q.configure({ policy, concurrencyLimit: limit, concurrencyLimits: { c: 1 }, groupFifo, visibilityTimeoutMs: LEASE_MS, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 500 } });
            const held = new Map<string, Job>();
            const order = new Map<string, string[]>(); // group → ids in add order
            const started = new Map<string, string[]>(); // group → ids in the order they first started
            const limitOf = (k: string) => (k === 'c' ? 1 : limit);
            for (const o of ops) {
              if (o.kind === 'add') {
                const j = await q.add(0, { ...(o.key ? { concurrencyKey: o.key } : {}), ...(o.group ? { group: o.group } : {}), delayMs: o.delayMs });
                if (o.group) order.set(o.group, [...(order.get(o.group) ?? []), j.id]);
              } else if (o.kind === 'claim') {
                for (const j of await h.spool.claim(name, o.n)) {
                  held.set(j.id, j);
                  if (j.group && !(started.get(j.group) ?? []).includes(j.id)) started.set(j.group, [...(started.get(j.group) ?? []), j.id]);
                }
              } else if (o.kind === 'advance') {
                await h.clock.advance(o.ms);
                await h.spool.runMaintenance();
              } else if (held.size > 0) {
                const j = [...held.values()][o.pick % held.size]!;
                held.delete(j.id);
                try {
                  if (o.kind === 'ack') await h.api.ack(lease(j));
                  else if (o.kind === 'nack') await h.api.nack(lease(j), new Error('no'));
                  else await h.api.release(lease(j));
                } catch (err) {
                  if ((err as { code?: string }).code !== 'STALE_LEASE') throw err; // reaped meanwhile
                }
              }
              const now = await active(h, name);
              for (const [k, n] of Object.entries(perKey(now))) if (k !== '-') assert.ok(n <= limitOf(k), `key ${k}: ${n} active, limit ${limitOf(k)}`);
              if (groupFifo) {
                const groups = now.map((j) => j.group).filter((g) => g !== null);
                assert.equal(new Set(groups).size, groups.length, `two of a group active: ${groups.join(',')}`);
              }
            }
            if (groupFifo) {
              for (const [g, ids] of started) assert.deepEqual(ids, order.get(g)!.slice(0, ids.length), `group ${g} started out of order`);
            }
          }),
          { numRuns: 20 },
        );
      }));
  });
}
