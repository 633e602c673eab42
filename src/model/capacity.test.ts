import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queueCapacity } from './capacity.ts';
import type { QueueModel } from './overview.ts';
import { MMC_ASSUMPTIONS } from './queueing.ts';

const model = (m: Partial<QueueModel>): QueueModel => ({
  windowMs: 60_000, arrivalRate: 0, completionRate: 0, failureRate: 0, deadRate: 0, serviceTimeMs: null, workers: 0, utilisation: null, length: 0, meanWaitMs: null, drainEtaMs: null, dropRate: 0, dropped: 0, ...m,
});

test("a measured queue: today's wait by M/M/c and the fewest workers for the target", () => {
  // 8 erlangs (λ = 8/s, S = 1 s): with 10 workers Wq = C(10, 8)·S/2 ≈ 205 ms; 11 workers reach 100 ms.
  const c = queueCapacity('calls', 1234, model({ arrivalRate: 8, serviceTimeMs: 1000, workers: 10, utilisation: 0.8 }), 100);
  assert.equal(c.overloaded, false);
  assert.ok(Math.abs(c.predictedWaitMs! - 204.6) < 0.5, String(c.predictedWaitMs));
  assert.equal(c.workersNeeded, 11);
  assert.deepEqual([c.queue, c.at, c.windowMs, c.arrivalRate, c.serviceTimeMs, c.workers, c.utilisation, c.targetWaitMs, c.assumptions], ['calls', 1234, 60_000, 8, 1000, 10, 0.8, 100, MMC_ASSUMPTIONS]);
});

test('λ·S ≥ c is overloaded: no finite wait (null, JSON has no Infinity), and the workers that would do', () => {
  const c = queueCapacity('q', 0, model({ arrivalRate: 8, serviceTimeMs: 1000, workers: 8, utilisation: 1 }), 1000);
  assert.deepEqual([c.overloaded, c.predictedWaitMs], [true, null]);
  assert.equal(c.workersNeeded, 9, 'Wq(9) ≈ 653 ms ≤ 1 s');
  assert.equal(JSON.parse(JSON.stringify(c)).predictedWaitMs, null);
});

test('jobs arriving with no worker: overloaded, whatever S is; without S the workers needed are unknown', () => {
  const none = queueCapacity('q', 0, model({ arrivalRate: 2, workers: 0 }), 1000);
  assert.deepEqual([none.overloaded, none.predictedWaitMs, none.workersNeeded], [true, null, null]);
  const measured = queueCapacity('q', 0, model({ arrivalRate: 2, serviceTimeMs: 100, workers: 0 }), 1000);
  assert.deepEqual([measured.overloaded, measured.predictedWaitMs, measured.workersNeeded], [true, null, 1]);
});

test('workers but no finished attempt yet: neither the wait nor the workers needed can be said', () => {
  const c = queueCapacity('q', 0, model({ arrivalRate: 2, workers: 4 }), 1000);
  assert.deepEqual([c.overloaded, c.predictedWaitMs, c.workersNeeded], [false, null, null]);
});

test('nothing arriving: no wait with workers, none needed; a queue not aggregated yet is an empty window', () => {
  const idle = queueCapacity('q', 0, model({ serviceTimeMs: 50, workers: 2 }), 1000);
  assert.deepEqual([idle.overloaded, idle.predictedWaitMs, idle.workersNeeded], [false, 0, 0]);
  const fresh = queueCapacity('new', 99, null, 1000);
  assert.deepEqual([fresh.windowMs, fresh.arrivalRate, fresh.serviceTimeMs, fresh.workers, fresh.overloaded, fresh.predictedWaitMs, fresh.workersNeeded], [0, 0, null, 0, false, null, 0]);
});

test('a target beyond what 10,000 workers reach is null, not a search without end', () => {
  // 9,999.5 erlangs: even 10,000 workers leave Wq far above 1 ms.
  const c = queueCapacity('q', 0, model({ arrivalRate: 9999.5, serviceTimeMs: 1000, workers: 1 }), 1);
  assert.equal(c.workersNeeded, null);
});
