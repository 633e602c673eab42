import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { inProcessOnly, withHarness, type Harness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';

/** No fallback poll and no maintenance tick within a test's time: held jobs start on the engine's own wake-up at a key's next token. */
const NO_POLL = { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 } as const;

/** A worker on `queue` that records each job's key and the clock time it started at, and completes it. */
function recordStarts(h: Harness, queue: string): { starts: [string | null, number][]; close(): Promise<void> } {
  const starts: [string | null, number][] = [];
  const worker = h.api.queue(queue).work(async (job) => void starts.push([job.concurrencyKey, h.clock.now()]), { concurrency: 20 });
  return { starts, close: () => worker.close() };
}

async function advance(h: Harness, ms: number): Promise<void> {
  await h.clock.advance(ms);
  await h.settled();
}

/** Per-key rate limits (queue settings `keyRateLimit`, `keyRateLimits`): a token bucket per `concurrencyKey`. */
export function keyRateLimitsSuite(target: HarnessTarget): void {
  describe('per-key rate limits', () => {
    it('the settings: stored whole with their defaults, refused with the field named, removed with null', () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        const none = await q.configure({ maxAttempts: 3 });
        assert.deepEqual([none.keyRateLimit, none.keyRateLimits], [null, {}], 'none by default');
        const set = await q.configure({ keyRateLimit: { rate: 5 }, keyRateLimits: { big: { rate: 50, perMs: 60_000, burst: 70 } } });
        assert.deepEqual(set.keyRateLimit, { rate: 5, perMs: 1000, burst: 5 });
        assert.deepEqual(set.keyRateLimits, { big: { rate: 50, perMs: 60_000, burst: 70 } });
        assert.deepEqual((await h.api.queueConfig('q')).keyRateLimits, { big: { rate: 50, perMs: 60_000, burst: 70 } });
        assert.deepEqual((await q.configure({ maxAttempts: 4 })).keyRateLimit, { rate: 5, perMs: 1000, burst: 5 }, 'other settings leave it');
        const refused = (input: unknown, field: string, message: RegExp) =>
          assert.rejects(q.configure(input as never), (e: Error) => e instanceof InvalidArgumentError && e.field === field && message.test(e.message));
        await refused({ keyRateLimit: { rat: 5 } }, 'keyRateLimit.rat', /did you mean "rate"\?/);
        await refused({ keyRateLimit: { perMs: 1000 } }, 'keyRateLimit.rate', /keyRateLimit\.rate is required/);
        await refused({ keyRateLimit: { rate: 0 } }, 'keyRateLimit.rate', /at least 1/);
        await refused({ keyRateLimit: { rate: 1, burst: 2_000_000 } }, 'keyRateLimit.burst', /at most 1000000/);
        await refused({ keyRateLimit: { rate: 1, limiter: 'x' } }, 'keyRateLimit.limiter', /unknown/);
        await refused({ keyRateLimits: { a: { rate: 1, perMs: 0 } } }, 'keyRateLimits["a"].perMs', /at least 1/);
        await refused({ keyRateLimits: { a: 5 } }, 'keyRateLimits["a"]', /object/);
        await refused({ keyRateLimits: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, { rate: 1 }])) }, 'keyRateLimits', /at most 1000 keys/);
        await refused({ keyRateLimitz: null }, 'keyRateLimitz', /did you mean "keyRateLimit/);
        const cleared = await q.configure({ keyRateLimit: null, keyRateLimits: {} });
        assert.deepEqual([cleared.keyRateLimit, cleared.keyRateLimits], [null, {}]);
      }));

    it("a key's jobs over its bucket stay ready while other keys' start; each starts at its key's next token, woken without polling", () =>
      withHarness(target, async (h) => {
        const q = h.api.queue('q');
        await q.configure({ keyRateLimit: { rate: 1, perMs: 1000, burst: 2 }, keyRateLimits: { b: { rate: 2, perMs: 1000, burst: 1 } } });
        const t0 = h.clock.now();
        await q.addMany([
          ...Array.from({ length: 4 }, () => ({ payload: 'a', concurrencyKey: 'a' })),
          ...Array.from({ length: 4 }, () => ({ payload: 'b', concurrencyKey: 'b' })),
          { payload: 'none' }, { payload: 'none' },
        ]);
        const w = recordStarts(h, 'q');
        await h.settled();
        const at = (t: number) => w.starts.filter(([, s]) => s === t).map(([k]) => k ?? '-').sort().join('');
        assert.equal(at(t0), '--aab', 'a: its burst of 2; b: its own burst of 1; jobs without a key: not limited');
        const { counts } = await q.stats();
        assert.deepEqual([counts.ready, counts.completed, counts.dead], [5, 5, 0], 'the rest wait, ready');
        await advance(h, 499);
        assert.equal(w.starts.length, 5, 'no token yet');
        for (let i = 0; i < 4; i++) await advance(h, i === 0 ? 1 : 500);
        assert.deepEqual([at(t0 + 500), at(t0 + 1000), at(t0 + 1500), at(t0 + 2000)], ['b', 'ab', 'b', 'a'], "b every 500 ms, a every 1000 ms");
        await w.close();
        for (const job of await h.api.list('q', { state: 'completed', limit: 1000 })) assert.deepEqual([job.attempt, job.history.length], [1, 1], 'each ran once, as its first attempt');
      }, NO_POLL));

    inProcessOnly(target, 'counts what the engine leases with its pull claim, which the remote contract does not offer')(
      'property: over any window of perMs, no key starts more than rate + burst jobs, whatever the claims, acks, adds and clock moves',
      { timeout: 300_000 },
      async () => {
        const key = fc.constantFrom('k1', 'k2', 'k3', null);
        const op = fc.oneof(
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 6 }), key }) },
          { weight: 3, arbitrary: fc.record({ kind: fc.constant('claim' as const), n: fc.integer({ min: 1, max: 8 }), key }) },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('settle' as const), n: fc.integer({ min: 0, max: 3 }), key }) },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), n: fc.integer({ min: 1, max: 1500 }), key }) },
        );
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(100, 1000, 3000), fc.boolean(), fc.array(op, { minLength: 1, maxLength: 50 }),
            async (rate, burst, perMs, k2Own, ops) =>
              withHarness(target, async (h) => {
                // k2 on a bucket of its own half the time: twice the default's rate and burst.
                const own = { rate: rate * 2, perMs, burst: burst * 2 };
                await h.api.queue('q').configure({ keyRateLimit: { rate, perMs, burst }, keyRateLimits: k2Own ? { k2: own } : {}, backoff: { type: 'fixed', delayMs: 0 } });
                const leased: [string | null, number][] = [];
                const held: Job[] = [];
                for (const o of ops) {
                  if (o.kind === 'add') await h.api.queue('q').addMany(Array.from({ length: o.n }, (_, i) => ({ payload: i, ...(o.key === null ? {} : { concurrencyKey: o.key }) })));
                  else if (o.kind === 'claim') {
                    const jobs = await h.spool.claim('q', o.n);
                    for (const j of jobs) leased.push([j.concurrencyKey, h.clock.now()]);
                    held.push(...jobs);
                  } else if (o.kind === 'settle') {
                    // Ack, nack (ready again at once) or release: what comes back starts again only with a token.
                    const job = held.shift();
                    if (job) {
                      if (o.n === 0) await h.api.ack(lease(job));
                      else if (o.n === 1) await h.api.nack(lease(job), 'again');
                      else await h.api.release(lease(job));
                    }
                  } else await h.clock.advance(o.n);
                }
                await h.settled();
                for (const k of ['k1', 'k2', 'k3']) {
                  const bound = k === 'k2' && k2Own ? own.rate + own.burst : rate + burst;
                  const starts = leased.filter(([key]) => key === k).map(([, t]) => t);
                  for (const start of starts) {
                    const inWindow = starts.filter((t) => t >= start && t <= start + perMs).length;
                    assert.ok(inWindow <= bound, `${k}: ${inWindow} leased within ${perMs} ms of ${start} (bound ${bound})`);
                  }
                }
              }, { maintenance: false }),
          ),
          { numRuns: 40 },
        );
      },
    );
  });
}
