import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueueCounts } from '../engine/telemetry.ts';
import { erlangC, meanQueueWaitMs, queueModel, workersFor } from './queueing.ts';

const counts = (c: Partial<QueueCounts>): QueueCounts => ({ added: 0, claimed: 0, completed: 0, failed: 0, dead: 0, expired: 0, serviceMsSum: 0, serviceCount: 0, systemMsSum: 0, systemCount: 0, dropped: 0, ...c });
const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test('Erlang C matches textbook values', () => {
  // Standard tables (e.g. the call-centre example: 10 agents, 8 erlangs → P(wait) ≈ 0.409).
  close(erlangC(10, 8), 0.4092, 0.0005, 'c=10, a=8');
  close(erlangC(1, 0.5), 0.5, 1e-12, 'M/M/1: P(wait) = ρ');
  close(erlangC(2, 1), 1 / 3, 1e-12, 'c=2, a=1');
  close(erlangC(5, 4), 0.5541, 0.0005, 'c=5, a=4');
  // Large c, against the closed form evaluated in exact arithmetic elsewhere: 0.216940480906366.
  close(erlangC(100, 90), 0.216940480906366, 1e-9, 'c=100, a=90 (the recurrence stays exact for large c)');
  assert.equal(erlangC(3, 3), 1, 'the workers cannot keep up');
  assert.throws(() => erlangC(0, 1), RangeError);
});

test('the mean wait of M/M/1 is ρ·S/(1−ρ), and workersFor finds the fewest workers for a target', () => {
  // λ = 5/s, S = 100 ms: ρ = 0.5, Wq = 0.5·100/0.5 = 100 ms.
  close(meanQueueWaitMs(1, 5, 100), 100, 1e-9, 'M/M/1');
  assert.equal(meanQueueWaitMs(1, 10, 100), Infinity);
  assert.equal(meanQueueWaitMs(4, 0, 100), 0);
  // 8 erlangs: 9 workers wait long, 10 give Wq = 0.409·S/2; with S = 1 s that is ≈ 205 ms.
  assert.equal(workersFor(250, 8, 1000), 10);
  // Wq by c: 9 → 653 ms, 10 → 205, 11 → 82, 12 → 35, 13 → 15.2, 14 → 6.5.
  assert.equal(workersFor(100, 8, 1000), 11);
  assert.equal(workersFor(10, 8, 1000), 14);
  assert.equal(workersFor(100, 0, 1000), 0);
  assert.equal(workersFor(1, 1000, 1000, 50), null, 'more than the bound');
});

test("the model: rates over the window, Little's law, utilisation and the drain time", () => {
  // 60 s: 600 added (λ = 10/s), 540 completed (μ = 9/s), 30 failed and 6 dead (0.6/s), each run 200 ms.
  const first = { at: 1_000_000, counts: counts({ added: 100, completed: 100, failed: 10, serviceMsSum: 20_000, serviceCount: 100 }) };
  const last = { at: 1_060_000, counts: counts({ added: 700, completed: 640, failed: 40, dead: 6, serviceMsSum: 20_000 + 576 * 200, serviceCount: 676 }) };
  const m = queueModel(first, last, { ready: 30, active: 4, workers: 4 });
  assert.equal(m.windowMs, 60_000);
  close(m.arrivalRate, 10, 1e-9, 'λ');
  close(m.completionRate, 9, 1e-9, 'μ');
  close(m.failureRate, 0.6, 1e-9, 'failures');
  close(m.serviceTimeMs!, 200, 1e-9, 'S');
  close(m.utilisation!, 0.5, 1e-9, 'ρ = λ·S/c = 10 · 0.2 / 4');
  assert.equal(m.length, 34);
  close(m.meanWaitMs!, 3400, 1e-9, 'W = L/λ when nothing completed with a measured time');
  const measured = queueModel(first, { at: last.at, counts: { ...last.counts, systemMsSum: 540 * 450, systemCount: 540 } }, { ready: 30, active: 4, workers: 4 });
  close(measured.meanWaitMs!, 450, 1e-9, 'W measured: add to completion');
  assert.equal(m.drainEtaMs, null, 'arrivals outpace completions');

  const draining = queueModel(first, { at: 1_060_000, counts: counts({ added: 100, completed: 700, serviceMsSum: 20_000, serviceCount: 100 }) }, { ready: 100, active: 0, workers: 0 });
  close(draining.drainEtaMs!, 10_000, 1e-9, '100 ready at a net 10/s');
  assert.equal(draining.meanWaitMs, null, 'nothing arrives: W is unknown');
  assert.equal(draining.utilisation, null, 'no workers, no service time in the window');

  const fresh = queueModel(last, last, { ready: 0, active: 0, workers: 2 });
  assert.deepEqual([fresh.windowMs, fresh.arrivalRate, fresh.drainEtaMs], [0, 0, 0]);
});
