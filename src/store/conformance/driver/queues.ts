import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyCounts } from '../../../core/job.ts';
import type { QueueConfig } from '../../../core/queue-config.ts';
import { insertAndClaim, leaseOf, newRow, T, withStore, type DriverContext } from './harness.ts';

/** What a store's stats say of a queue's bound: its waiting jobs (ready and scheduled); the bound itself is the engine's to fill in. */
const unbounded = (length: number) => ({ length, maxLength: null, overflow: 'reject' as const, unservable: 0 });

const config = (visibilityTimeoutMs: number): QueueConfig => ({
  visibilityTimeoutMs, maxAttempts: 4, maxStalls: 2, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000 }, timeoutMs: 0, rateLimit: null, maxLength: null, overflow: 'reject',
  policy: 'fifo', agingMs: 60_000, sjfCostFactor: 10, sjfLearnPct: 20, fairWeights: {}, concurrencyLimit: null, concurrencyLimits: {}, groupFifo: false,
  keyRateLimit: null, keyRateLimits: {}, labels: {},
});

/** Queue rows (queueUpsert, queueGet, queueList, queueSetPaused, the row an insert creates) and queueStats. */
export function queuesArea(ctx: DriverContext): void {
  const skip = ctx.skip('queues');
  describe('queues', () => {
    it('an insert creates the row of each new queue with config {} (every setting at its default), once', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.deepEqual(await store.queueList(), []);
        await store.jobsInsertMany([newRow(1, { queue: 'b' }), newRow(2, { queue: 'a' }), newRow(3, { queue: 'b' })]);
        await store.jobsInsertEach([newRow(4, { queue: 'c', createdAt: T + 5 })]);
        await store.jobsInsertMany([newRow(5, { queue: 'a', createdAt: T + 9 })]);
        assert.deepEqual(await store.queueList(), [
          { name: 'a', config: {}, paused: false, createdAt: T, updatedAt: T },
          { name: 'b', config: {}, paused: false, createdAt: T, updatedAt: T },
          { name: 'c', config: {}, paused: false, createdAt: T + 5, updatedAt: T + 5 },
        ]);
      }));

    it('upsert creates a queue or replaces its config, keeping its creation time; get and list read it back', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.equal(await store.queueGet('orders'), null);
        await store.queueUpsert('orders', config(30_000), T);
        await store.queueUpsert('emails', config(1000), T + 1);
        assert.deepEqual(await store.queueGet('orders'), { name: 'orders', config: config(30_000), paused: false, createdAt: T, updatedAt: T });
        await store.queueUpsert('orders', config(5000), T + 10);
        assert.deepEqual(await store.queueGet('orders'), { name: 'orders', config: config(5000), paused: false, createdAt: T, updatedAt: T + 10 });
        await store.jobsInsertMany([newRow(1, { queue: 'orders', createdAt: T + 20 })]);
        assert.deepEqual((await store.queueGet('orders'))?.config, config(5000), 'an insert leaves an existing queue alone');
        assert.deepEqual((await store.queueList()).map((q) => q.name), ['emails', 'orders']);
      }));

    it('setPaused pauses and resumes a queue, keeping its config', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.queueUpsert('q', config(2000), T);
        await store.queueSetPaused('q', true, T + 5);
        assert.deepEqual(await store.queueGet('q'), { name: 'q', config: config(2000), paused: true, createdAt: T, updatedAt: T + 5 });
        await store.jobsInsertMany([newRow(1)]);
        assert.equal((await store.queueGet('q'))?.paused, true, 'an insert leaves it paused');
        await store.queueSetPaused('q', false, T + 6);
        assert.deepEqual(await store.queueGet('q'), { name: 'q', config: config(2000), paused: false, createdAt: T, updatedAt: T + 6 });
      }));

    it('stats: counts per state (finished ones too), the oldest ready job\'s age, paused; a queue asked for by name is there', { skip }, () =>
      withStore(ctx, async (store) => {
        const [a, b] = await insertAndClaim(store, [newRow(1, { runAt: T - 10 }), newRow(2, { runAt: T - 10 })]);
        await store.jobsComplete([{ lease: leaseOf(a!), result: null }], T);
        await store.jobsFail([{ lease: leaseOf(b!), error: 'x', retryAt: T, unrecoverable: true }], T);
        await store.jobsInsertMany([
          newRow(3, { runAt: T - 300 }), newRow(4, { runAt: T - 100 }), newRow(5, { state: 'scheduled', runAt: T + 50 }),
          newRow(6), newRow(7, { queue: 'b', runAt: T - 40 }),
        ]);
        await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 1000, now: T });
        await store.jobsCancel([newRow(6).id], T);
        await store.queueSetPaused('b', true, T);
        const qStats = { queue: 'q', counts: { ...emptyCounts(), ready: 1, active: 1, scheduled: 1, completed: 1, dead: 1, cancelled: 1 }, oldestReadyAgeMs: 1100, paused: false, ...unbounded(2) };
        const bStats = { queue: 'b', counts: { ...emptyCounts(), ready: 1 }, oldestReadyAgeMs: 1040, paused: true, ...unbounded(1) };
        assert.deepEqual(await store.queueStats('q', T + 1000), [qStats]);
        assert.deepEqual(await store.queueStats(null, T + 1000), [bStats, qStats]);
        assert.deepEqual(await store.queueStats('none', T), [{ queue: 'none', counts: emptyCounts(), oldestReadyAgeMs: 0, paused: false, ...unbounded(0) }]);
      }));
  });
}
