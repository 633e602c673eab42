import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { withHarness, type Harness, type HarnessTarget } from './harness.ts';

const lease = (j: Job) => ({ jobId: j.id, token: j.leaseToken });

/** Asserts that `p` fails with an InvalidArgumentError naming `uniqueKey`. */
async function refusedKey(p: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentError, `${what}: InvalidArgumentError, got ${String(e)}`);
    assert.equal(e.field, 'uniqueKey', `${what}: ${e.message}`);
    return true;
  });
}

/** The jobs of `queue` in a live state (scheduled, ready, active). */
async function live(h: Harness, queue: string): Promise<Job[]> {
  return (await h.api.list(queue, { limit: 1000 })).filter((j) => j.state === 'scheduled' || j.state === 'ready' || j.state === 'active');
}

/** Deduplication (`uniqueKey`): at most one live job per (queue, key); a deduplicated add returns that job, marked `duplicate`. */
export function uniqueSuite(target: HarnessTarget): void {
  describe('unique keys', () => {
    it('while a job with the key is ready, an add with it returns that job marked duplicate, with its own payload, and stores nothing', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const first = await q.add({ n: 1 }, { uniqueKey: 'report:42' });
        assert.equal(first.duplicate, undefined);
        const again = await q.add({ n: 2 }, { uniqueKey: 'report:42' });
        assert.equal(again.id, first.id);
        assert.equal(again.duplicate, true);
        assert.deepEqual(again.payload, { n: 1 }, 'the holder\'s payload, not the add\'s');
        assert.equal(again.state, 'ready');
        assert.deepEqual((await q.list()).map((j) => j.id), [first.id]);
        assert.equal((await api.stats('q'))[0]!.counts.ready, 1);
        assert.equal((await api.get(first.id)).duplicate, undefined, 'a read never carries the mark');
        // Another key, another queue, or no key: new jobs.
        assert.notEqual((await q.add(1, { uniqueKey: 'report:43' })).id, first.id);
        assert.equal((await api.queue('other').add(1, { uniqueKey: 'report:42' })).duplicate, undefined);
        assert.equal((await q.add(1)).duplicate, undefined);
        assert.equal((await q.list()).length, 3);
      }));

    it('a scheduled (delayed) and an active job hold the key; once completed, the key is free and the same key adds a new job', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const q = api.queue('q');
        const delayed = await q.add(1, { uniqueKey: 'k', delayMs: 1000 });
        assert.equal(delayed.state, 'scheduled');
        assert.equal((await q.add(2, { uniqueKey: 'k' })).id, delayed.id);
        await clock.advance(1000);
        const [job] = await spool.claim('q');
        assert.equal(job!.id, delayed.id);
        const whileActive = await q.add(3, { uniqueKey: 'k' });
        assert.equal(whileActive.id, delayed.id);
        assert.equal(whileActive.duplicate, true);
        assert.equal(whileActive.state, 'active');
        await api.ack(lease(job!));
        const next = await q.add(4, { uniqueKey: 'k' });
        assert.notEqual(next.id, delayed.id);
        assert.equal(next.duplicate, undefined);
        assert.equal(next.payload, 4);
        assert.equal((await q.add(5, { uniqueKey: 'k' })).id, next.id, 'the new job holds the key now');
      }));

    it('a failed attempt that is retried keeps the key; a job dead after its last attempt frees it', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        await q.configure({ maxAttempts: 2, backoff: { type: 'fixed', delayMs: 0 } });
        const first = await q.add(1, { uniqueKey: 'k' });
        const [a1] = await spool.claim('q');
        assert.equal(await api.nack(lease(a1!), 'boom'), 'ready');
        assert.equal((await q.add(2, { uniqueKey: 'k' })).id, first.id, 'back to ready: still held');
        const [a2] = await spool.claim('q');
        assert.equal(await api.nack(lease(a2!), 'boom'), 'dead');
        const next = await q.add(3, { uniqueKey: 'k' });
        assert.notEqual(next.id, first.id);
        assert.equal(next.duplicate, undefined);
      }));

    it('cancel and delete free the key', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        const a = await q.add(1, { uniqueKey: 'k' });
        await api.cancel(a.id);
        const b = await q.add(2, { uniqueKey: 'k' });
        assert.notEqual(b.id, a.id);
        await api.deleteJob(b.id);
        const c = await q.add(3, { uniqueKey: 'k' });
        assert.notEqual(c.id, b.id);
        // An active job cancelled frees it too.
        await spool.claim('q');
        await api.cancel(c.id);
        const d = await q.add(4, { uniqueKey: 'k' });
        assert.equal(d.duplicate, undefined);
        assert.equal((await live({ api } as Harness, 'q')).length, 1);
      }));

    it('an operator retry of a cancelled job brings it back without its key, whoever holds the key now', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const a = await q.add(1, { uniqueKey: 'k' });
        await api.cancel(a.id);
        const b = await q.add(2, { uniqueKey: 'k' });
        await api.retry(a.id);
        assert.equal((await api.get(a.id)).state, 'ready');
        assert.equal((await q.add(3, { uniqueKey: 'k' })).id, b.id, 'b still holds the key');
        await api.cancel(b.id);
        const c = await q.add(4, { uniqueKey: 'k' });
        assert.ok(c.id !== a.id && c.id !== b.id && c.duplicate === undefined, 'the retried job does not hold the key');
      }));

    it('addMany: an item whose key a live job holds returns it; two items with one key store the first, the second is its duplicate', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const old = await q.add('old', { uniqueKey: 'k1' });
        const jobs = await q.addMany([
          { payload: 'a', uniqueKey: 'k1' },
          { payload: 'b', uniqueKey: 'k2' },
          { payload: 'c', uniqueKey: 'k2' },
          { payload: 'd' },
        ]);
        assert.equal(jobs.length, 4);
        assert.equal(jobs[0]!.id, old.id);
        assert.equal(jobs[0]!.duplicate, true);
        assert.equal(jobs[0]!.payload, 'old');
        assert.equal(jobs[1]!.duplicate, undefined);
        assert.equal(jobs[1]!.payload, 'b');
        assert.equal(jobs[2]!.id, jobs[1]!.id);
        assert.equal(jobs[2]!.duplicate, true);
        assert.equal(jobs[2]!.payload, 'b');
        assert.equal(jobs[3]!.duplicate, undefined);
        assert.deepEqual((await q.list()).map((j) => j.id).sort(), [old.id, jobs[1]!.id, jobs[3]!.id].sort());
        assert.equal((await api.stats('q'))[0]!.counts.ready, 3);
      }));

    it('with an idempotency key: a re-sent add returns the job it created (no mark); a deduplicated add records no idempotency key', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        const a = await q.add('a', { idempotencyKey: 'send-a', uniqueKey: 'u' });
        const resentA = await q.add('a', { idempotencyKey: 'send-a', uniqueKey: 'u' });
        assert.equal(resentA.id, a.id);
        assert.equal(resentA.duplicate, undefined, 'a replay of the add that stored it');
        const b = await q.add('b', { idempotencyKey: 'send-b', uniqueKey: 'u' });
        assert.equal(b.id, a.id);
        assert.equal(b.duplicate, true);
        assert.equal((await q.add('b', { idempotencyKey: 'send-b', uniqueKey: 'u' })).duplicate, true, 'still a duplicate while a is live');
        const [job] = await spool.claim('q');
        await api.ack(lease(job!));
        // send-b stored nothing: sent again now that the key is free, it adds its job, once.
        const b2 = await q.add('b', { idempotencyKey: 'send-b', uniqueKey: 'u' });
        assert.notEqual(b2.id, a.id);
        assert.equal(b2.duplicate, undefined);
        assert.equal(b2.payload, 'b');
        const b3 = await q.add('b', { idempotencyKey: 'send-b', uniqueKey: 'u' });
        assert.equal(b3.id, b2.id);
        assert.equal(b3.duplicate, undefined);
        // The idempotency key wins over the unique key: send-a names a, completed, whoever holds u.
        const resentA2 = await q.add('a', { idempotencyKey: 'send-a', uniqueKey: 'u' });
        assert.equal(resentA2.id, a.id);
        assert.equal(resentA2.state, 'completed');
        assert.equal((await live({ api } as Harness, 'q')).length, 1);
      }));

    it('50 concurrent adds with one key store exactly one job; the others return it as a duplicate', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const jobs = await Promise.all(Array.from({ length: 50 }, (_, i) => q.add({ i }, { uniqueKey: 'once' })));
        assert.equal(new Set(jobs.map((j) => j.id)).size, 1);
        assert.equal(jobs.filter((j) => j.duplicate === undefined).length, 1);
        assert.equal(jobs.filter((j) => j.duplicate === true).length, 49);
        const stored = await q.list();
        assert.equal(stored.length, 1);
        assert.equal((await api.stats('q'))[0]!.counts.ready, 1);
        // And 50 concurrent batches of one key each.
        const batches = await Promise.all(Array.from({ length: 50 }, (_, i) => q.addMany([{ payload: i, uniqueKey: 'batch' }, { payload: i, uniqueKey: `own-${i}` }])));
        assert.equal(new Set(batches.map((b) => b[0]!.id)).size, 1);
        assert.equal((await q.list({ limit: 1000 })).length, 1 + 1 + 50);
      }));

    it('uniqueWindowMs: a finished job holds the key until its add plus the window; then it is free', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const q = api.queue('q');
        const first = await q.add(1, { uniqueKey: 'k', uniqueWindowMs: 1000 });
        const [job] = await spool.claim('q');
        await clock.advance(100);
        await api.ack(lease(job!));
        const within = await q.add(2, { uniqueKey: 'k' });
        assert.equal(within.id, first.id, 'completed, inside its window: still held');
        assert.equal(within.duplicate, true);
        assert.equal(within.state, 'completed');
        await clock.advance(899);
        assert.equal((await q.add(3, { uniqueKey: 'k', uniqueWindowMs: 5000 })).id, first.id, 'the last ms of the window');
        await clock.advance(1);
        const next = await q.add(4, { uniqueKey: 'k', uniqueWindowMs: 5000 });
        assert.notEqual(next.id, first.id);
        assert.equal(next.duplicate, undefined);
        // Cancelled inside its window, it still holds the key; deleted, it holds nothing.
        await api.cancel(next.id);
        assert.equal((await q.add(5, { uniqueKey: 'k' })).id, next.id);
        await api.deleteJob(next.id);
        assert.equal((await q.add(6, { uniqueKey: 'k' })).duplicate, undefined);
      }));

    it('uniqueWindowMs needs a uniqueKey and stays within its bounds', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const refused = async (p: Promise<unknown>, message: RegExp) => assert.rejects(p, (e: unknown) => {
          assert.ok(e instanceof InvalidArgumentError, String(e));
          assert.equal(e.field, 'uniqueWindowMs');
          assert.match(e.message, message);
          return true;
        });
        await refused(q.add(1, { uniqueWindowMs: 1000 }), /goes with a uniqueKey/);
        await refused(q.add(1, { uniqueKey: 'k', uniqueWindowMs: -1 }), /at least 0/);
        await refused(q.add(1, { uniqueKey: 'k', uniqueWindowMs: 30 * 86_400_000 + 1 }), /at most 2592000000/);
        await refused(q.add(1, { uniqueKey: 'k', uniqueWindowMs: 1.5 }), /integer/);
        assert.equal((await api.stats()).length, 0);
      }));

    it('bad keys are refused, naming uniqueKey, and store nothing', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        await refusedKey(q.add(1, { uniqueKey: '' }), 'empty');
        await refusedKey(q.add(1, { uniqueKey: 'k'.repeat(129) }), '129 characters');
        await refusedKey(q.add(1, { uniqueKey: 'a\0b' }), 'U+0000');
        await refusedKey(q.add(1, { uniqueKey: 'a\ud800' }), 'unpaired surrogate');
        await refusedKey(q.add(1, { uniqueKey: 42 as never }), 'a number');
        await refusedKey(q.addMany([{ payload: 1, uniqueKey: 'fine' }, { payload: 2, uniqueKey: '' }]), 'an item of addMany');
        assert.equal((await api.stats()).length, 0, 'nothing stored, no queue made');
        const long = await q.add(1, { uniqueKey: 'k'.repeat(128) });
        assert.equal((await q.add(2, { uniqueKey: 'k'.repeat(128) })).id, long.id);
        const odd = await q.add(1, { uniqueKey: 'ü 𝄞 key/42' });
        assert.equal((await q.add(2, { uniqueKey: 'ü 𝄞 key/42' })).id, odd.id);
      }));

    describe('property (fast-check)', () => {
      type Step = { op: 'add'; key: number; delayed: boolean } | { op: 'addMany'; keys: number[] } | { op: 'ack' | 'nack' | 'cancel' | 'delete'; pick: number } | { op: 'advance' };
      const step: fc.Arbitrary<Step> = fc.oneof(
        { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), key: fc.nat(3), delayed: fc.boolean() }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('addMany' as const), keys: fc.array(fc.nat(3), { minLength: 1, maxLength: 4 }) }) },
        { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('ack' as const, 'nack' as const, 'cancel' as const, 'delete' as const), pick: fc.nat(20) }) },
        { weight: 1, arbitrary: fc.constant({ op: 'advance' as const }) },
      );

      it('under random adds, acks, failures, cancels and deletes, never two live jobs with one key; an add is a duplicate exactly when one is live', { timeout: 300_000 }, () =>
        withHarness(target, async (h) => {
          const { api, spool, clock } = h;
          let run = 0;
          await api.queue('setup').configure({}); // the harness is shared by the runs: each run has its own queue
          await fc.assert(
            fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
              const queue = `p${run++}`;
              const q = api.queue(queue);
              await q.configure({ maxAttempts: 2, backoff: { type: 'fixed', delayMs: 0 } });
              const keyOf = new Map<string, string>(); // job id → its key
              const check = async () => {
                const held = new Map<string, string>();
                for (const j of await live(h, queue)) {
                  const k = keyOf.get(j.id);
                  if (k === undefined) continue;
                  assert.ok(!held.has(k), `two live jobs with key ${k}: ${held.get(k)} and ${j.id}`);
                  held.set(k, j.id);
                }
                return held;
              };
              for (const s of steps) {
                const held = await check();
                if (s.op === 'add' || s.op === 'addMany') {
                  const keys = s.op === 'add' ? [`k${s.key}`] : s.keys.map((k) => `k${k}`);
                  const jobs = s.op === 'add'
                    ? [await q.add(0, { uniqueKey: keys[0]!, ...(s.delayed ? { delayMs: 10 } : {}) })]
                    : await q.addMany(keys.map((k) => ({ payload: 0, uniqueKey: k })));
                  const seen = new Map(held);
                  jobs.forEach((j, i) => {
                    const k = keys[i]!;
                    const holder = seen.get(k);
                    if (holder !== undefined) {
                      assert.equal(j.duplicate, true, `add of ${k} while ${holder} is live`);
                      assert.equal(j.id, holder);
                    } else {
                      assert.equal(j.duplicate, undefined, `add of ${k} with no live holder`);
                      keyOf.set(j.id, k);
                      seen.set(k, j.id);
                    }
                  });
                } else if (s.op === 'advance') {
                  await clock.advance(10);
                } else if (s.op === 'ack' || s.op === 'nack') {
                  const [job] = await spool.claim(queue);
                  if (!job) continue;
                  if (s.op === 'ack') await api.ack(lease(job));
                  else await api.nack(lease(job), 'boom');
                } else {
                  const jobs = await live(h, queue);
                  const victim = jobs[s.pick % Math.max(1, jobs.length)];
                  if (!victim) continue;
                  if (s.op === 'cancel') await api.cancel(victim.id);
                  else if (victim.state !== 'active') await api.deleteJob(victim.id);
                }
              }
              await check();
            }),
            { numRuns: target.mode === 'remote' ? 15 : 40 },
          );
        }));
    });
  });
}
