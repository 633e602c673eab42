import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { inProcessOnly, withHarness, type Harness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';
import { waitFor } from './worker.ts';

/**
 * No fallback poll and no maintenance tick within any test's time: a job held back by a rate
 * limit must be started by the engine's own wake-up at its next token, nothing else.
 */
const NO_POLL = { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 } as const;

/** A worker on `queue` that records the clock time each job started at, and completes it. */
function recordStarts(h: Harness, queue: string, concurrency = 20): { starts: number[]; ids: string[]; acked(): number; close(): Promise<void> } {
  const starts: number[] = [];
  const ids: string[] = [];
  let acked = 0;
  const worker = h.api.queue(queue).work(async (job) => {
    starts.push(h.clock.now());
    ids.push(job.id);
  }, { concurrency });
  worker.on('completed', () => acked++);
  return { starts, ids, acked: () => acked, close: () => worker.close() };
}

/** Moves the clock and waits for what it set off. */
async function advance(h: Harness, ms: number): Promise<void> {
  await h.clock.advance(ms);
  await h.settled();
}

/** Rate limits (queue setting `rateLimit`): jobs over the limit stay queued and start as tokens come due. */
export function rateLimitsSuite(target: HarnessTarget): void {
  describe('rate limits', () => {
    it('the setting: stored whole with its defaults, refused with the field named, removed with null', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        assert.equal((await q.configure({ maxAttempts: 3 })).rateLimit, null, 'no limit by default');
        assert.deepEqual((await q.configure({ rateLimit: { rate: 5 } })).rateLimit, { rate: 5, perMs: 1000, burst: 5, limiter: null });
        assert.deepEqual((await q.configure({ rateLimit: { rate: 2, perMs: 60_000, burst: 10, limiter: 'smtp' } })).rateLimit, { rate: 2, perMs: 60_000, burst: 10, limiter: 'smtp' });
        assert.deepEqual((await h.api.queueConfig('q')).rateLimit, { rate: 2, perMs: 60_000, burst: 10, limiter: 'smtp' });
        assert.equal((await q.configure({ maxAttempts: 4 })).rateLimit?.rate, 2, 'other settings leave the limit');
        const refused = async (input: unknown, field: string, message: RegExp) =>
          assert.rejects(q.configure({ rateLimit: input } as never), (e: Error) => e instanceof InvalidArgumentError && e.field === field && message.test(e.message));
        await refused({ rat: 5 }, 'rateLimit.rat', /did you mean "rate"\?/);
        await refused({ perMs: 1000 }, 'rateLimit.rate', /rateLimit\.rate is required/);
        await refused({ rate: 0 }, 'rateLimit.rate', /at least 1/);
        await refused({ rate: 1, burst: 0 }, 'rateLimit.burst', /at least 1/);
        await refused({ rate: 1, perMs: 0 }, 'rateLimit.perMs', /at least 1/);
        await refused({ rate: 1, limiter: 'no spaces' }, 'rateLimit.limiter', /not valid/);
        await refused(5, 'rateLimit', /object|null/);
        assert.equal((await q.configure({ rateLimit: null })).rateLimit, null);
        assert.equal((await h.api.queueConfig('q')).rateLimit, null);
      }));

    it('jobs over the limit stay ready (not failed, no attempt counted) and start as tokens come due, woken without polling', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ rateLimit: { rate: 2, perMs: 1000, burst: 2 } });
        const t0 = h.clock.now();
        await q.addMany(Array.from({ length: 7 }, (_, i) => ({ payload: i })));
        const w = recordStarts(h, 'q');
        await h.settled();
        assert.deepEqual(w.starts, [t0, t0], 'the burst at once');
        await waitFor(() => w.acked() === 2, 20_000, "the burst's two acks"); // stored: the stats below count them
        const { counts, heldUntil } = await q.stats();
        assert.deepEqual([counts.ready, counts.completed, counts.dead], [5, 2, 0]);
        assert.equal(heldUntil, t0 + 500, 'the stats say the limit holds jobs back, and until when');
        await advance(h, 499);
        assert.equal(w.starts.length, 2, 'no token yet');
        await advance(h, 1);
        assert.deepEqual(w.starts.slice(2), [t0 + 500], 'a token every 500 ms');
        await advance(h, 500);
        await advance(h, 500);
        await advance(h, 500);
        await advance(h, 500);
        assert.deepEqual(w.starts.slice(2), [t0 + 500, t0 + 1000, t0 + 1500, t0 + 2000, t0 + 2500]);
        assert.equal((await q.stats()).heldUntil, null, 'nothing left to hold back');
        assert.equal((await h.api.queue('other').add('x'), (await h.api.stats('other'))[0]!.heldUntil), undefined, 'a queue without a limit has no heldUntil');
        await w.close();
        for (const id of w.ids) {
          const job = await h.api.get(id);
          assert.deepEqual([job.state, job.attempt, job.history.length], ['completed', 1, 1], 'each job ran once, as its first attempt');
        }
      }, NO_POLL));

    it('a job added while the bucket is empty does not bypass the limit', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ rateLimit: { rate: 1, perMs: 10_000, burst: 1 } });
        const w = recordStarts(h, 'q');
        await h.settled();
        const t0 = h.clock.now();
        await q.add('first');
        await h.settled();
        await q.add('second');
        await h.settled();
        await advance(h, 5000);
        assert.deepEqual(w.starts, [t0]);
        await advance(h, 5000);
        assert.deepEqual(w.starts, [t0, t0 + 10_000]);
        await w.close();
      }, NO_POLL));

    it('a limit that does not bind changes nothing; removing the limit releases held jobs at once', () =>
      withHarness(target, async (h) => {
        const free = h.api.queue('free');
        await free.configure({ rateLimit: { rate: 1000, perMs: 1000 } });
        await free.addMany(Array.from({ length: 20 }, (_, i) => ({ payload: i })));
        const a = recordStarts(h, 'free');
        await h.settled();
        assert.equal(a.starts.length, 20, 'all 20 within the burst of 1000');
        await a.close();

        const held = h.api.queue('held');
        await held.configure({ rateLimit: { rate: 1, perMs: 60_000 } });
        await held.addMany(Array.from({ length: 5 }, (_, i) => ({ payload: i })));
        const b = recordStarts(h, 'held');
        await h.settled();
        assert.equal(b.starts.length, 1);
        await held.configure({ rateLimit: null });
        await h.settled();
        assert.equal(b.starts.length, 5, 'no limit: the rest start without waiting for a token');
        await b.close();
      }, NO_POLL));

    it('pause wins over tokens, and a paused queue takes none', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ rateLimit: { rate: 1, perMs: 1000, burst: 3 } });
        await q.add('x');
        await q.pause();
        const w = recordStarts(h, 'q');
        await h.settled();
        await advance(h, 5000);
        assert.equal(w.starts.length, 0, 'paused');
        const bucket = { name: 'queue:q', rate: 1, perMs: 1000, burst: 3, now: h.clock.now() };
        assert.equal((await h.store.rateLimitRead(bucket)).tokens, 3, 'no token taken while paused');
        await q.addMany([{ payload: 'y' }, { payload: 'z' }, { payload: 'w' }]);
        await q.resume();
        await h.settled();
        assert.equal(w.starts.length, 3, 'the burst, once resumed');
        await w.close();
      }, NO_POLL));

    it('queues sharing a limiter draw on one bucket; a limiter given other parameters is refused, naming the queue that has it', () =>
      withHarness(target, async (h) => {
        const limit = { rate: 1, perMs: 1000, burst: 2, limiter: 'smtp' };
        await h.api.queue('welcome').configure({ rateLimit: limit });
        await h.api.queue('digest').configure({ rateLimit: limit });
        await assert.rejects(
          h.api.queue('alerts').configure({ rateLimit: { ...limit, rate: 5 } }),
          (e: Error) => e instanceof InvalidArgumentError && e.field === 'rateLimit' && /"(welcome|digest)" shares limiter "smtp" with rate 1 per 1000 ms, burst 2/.test(e.message),
        );
        await h.api.queue('welcome').addMany([{ payload: 1 }, { payload: 2 }]);
        await h.api.queue('digest').addMany([{ payload: 3 }, { payload: 4 }]);
        const a = recordStarts(h, 'welcome');
        const b = recordStarts(h, 'digest');
        await h.settled();
        assert.equal(a.starts.length + b.starts.length, 2, 'the burst of the shared bucket, not one per queue');
        await advance(h, 1000);
        assert.equal(a.starts.length + b.starts.length, 3);
        await advance(h, 1000);
        assert.equal(a.starts.length + b.starts.length, 4);
        await a.close();
        await b.close();
      }, NO_POLL));

    inProcessOnly(target, 'counts what the engine leases with its pull claim, which the remote contract does not offer')(
      'property: over any window of perMs, at most rate + burst jobs are leased, whatever the claims, acks, adds and clock moves',
      { timeout: 300_000 },
      async () => {
        const op = fc.oneof(
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 6 }) }) },
          { weight: 3, arbitrary: fc.record({ kind: fc.constant('claim' as const), n: fc.integer({ min: 1, max: 8 }) }) },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('settle' as const), n: fc.integer({ min: 0, max: 3 }) }) },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), n: fc.integer({ min: 1, max: 1500 }) }) },
        );
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(100, 1000, 3000), fc.array(op, { minLength: 1, maxLength: 60 }),
            async (rate, burst, perMs, ops) =>
              withHarness(target, async (h) => {
                await h.api.queue('q').configure({ rateLimit: { rate, perMs, burst }, backoff: { type: 'fixed', delayMs: 0 } });
                const leasedAt: number[] = [];
                const held: Job[] = [];
                for (const o of ops) {
                  if (o.kind === 'add') await h.api.queue('q').addMany(Array.from({ length: o.n }, (_, i) => ({ payload: i })));
                  else if (o.kind === 'claim') {
                    const jobs = await h.spool.claim('q', o.n);
                    for (let i = 0; i < jobs.length; i++) leasedAt.push(h.clock.now());
                    held.push(...jobs);
                  } else if (o.kind === 'settle') {
                    // Settle some held jobs: ack, nack (back to ready at once) or release: what comes back is leased again only with a token.
                    const job = held.shift();
                    if (job) {
                      if (o.n === 0) await h.api.ack(lease(job));
                      else if (o.n === 1) await h.api.nack(lease(job), 'again');
                      else await h.api.release(lease(job));
                    }
                  } else await h.clock.advance(o.n);
                }
                await h.settled();
                for (const start of leasedAt) {
                  const inWindow = leasedAt.filter((t) => t >= start && t <= start + perMs).length;
                  assert.ok(inWindow <= rate + burst, `${inWindow} leased within ${perMs} ms of ${start} (rate ${rate}, burst ${burst})`);
                }
              }, { maintenance: false }),
          ),
          { numRuns: 60 },
        );
      },
    );
  });
}
