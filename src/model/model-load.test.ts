/**
 * The live model against a load whose numbers are known: jobs arrive every 100 ms (λ = 10/s),
 * each runs exactly 200 ms (S), on 4 worker slots (c). So ρ = λ·S/c = 0.5, μ = λ, and since a job
 * never waits for a slot, W = S. Time is a ManualClock: nothing here depends on how fast the machine is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, Spool } from '../index.ts';
import type { Lease } from '../core/job.ts';
import { waitFor } from '../store/conformance/worker.ts';

const within = (actual: number | null, expected: number, share: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= expected * share, `${what}: ${actual} is not within ${share * 100} % of ${expected}`);

test('λ, μ, S, ρ and W measured from a controlled load are within 10 % of what it implies', async () => {
  const clock = new ManualClock();
  const spool = await Spool.open({ store: 'memory', clock, maintenance: false, pollIntervalMs: 60_000, onError: () => {} });
  try {
    const queue = spool.queue('load');
    await queue.configure({ visibilityTimeoutMs: 60_000 });
    const held: { lease: Lease; due: number }[] = [];
    let delivered = 0;
    const sub = spool.subscribe('load', {
      deliver: (jobs) => {
        for (const j of jobs) held.push({ lease: { jobId: j.id, token: j.leaseToken }, due: clock.now() + 200 });
        delivered += jobs.length;
      },
      revoke: () => {},
    });
    sub.addCredits(4);
    await spool.overview(); // the sampler's window starts here
    let added = 0;
    for (let step = 0; step < 700; step++) {
      await queue.add(step);
      added++;
      await waitFor(() => delivered === added, 20_000, 'the delivery of the new job'); // never more than 2 run at once: 4 slots suffice
      await clock.advance(100);
      for (const h of held.filter((x) => x.due <= clock.now())) {
        await spool.ack(h.lease);
        held.splice(held.indexOf(h), 1);
        sub.addCredits(1);
      }
    }
    await clock.advance(1000); // a fresh overview (the cached one is at most a second old)
    const o = await spool.overview({ history: true });
    const q = o.queues.find((x) => x.queue === 'load')!;
    const m = q.model;
    assert.equal(m.windowMs, 60_000, 'a full window');
    within(m.arrivalRate, 10, 0.1, 'λ');
    within(m.completionRate, 10, 0.1, 'μ');
    within(m.serviceTimeMs, 200, 0.1, 'S');
    assert.equal(m.workers, 4, 'c: the subscription\'s slots');
    within(m.utilisation, 0.5, 0.1, 'ρ = λ·S/c');
    within(m.meanWaitMs, 200, 0.1, 'W: no job waits for a slot');
    assert.equal(m.failureRate, 0);
    assert.deepEqual(o.consumers.map((c) => [c.id, c.queues]), [['in-process', [{ queue: 'load', slots: 4, inFlight: held.length }]]]);
    assert.ok(o.history!.at.length >= 7, `a point every 10 s: ${o.history!.at.length}`);
    const arrivals = o.history!.queues.load!.arrivalRate;
    within(arrivals.at(-1)!, 10, 0.1, 'λ in the history');
    sub.close();
  } finally {
    await spool.close();
  }
});

test('a slow stats read is not repeated every second: the overview is cached five times as long as its read took', async () => {
  const clock = new ManualClock();
  const { ModelSampler } = await import('./sampler.ts');
  let reads = 0;
  const sampler = new ModelSampler({
    clock,
    counts: () => new Map(),
    // A read that takes 800 ms of the engine's time, as a count over a million PostgreSQL rows may.
    stats: async () => {
      reads++;
      await clock.advance(800);
      return [];
    },
    slots: () => new Map(),
    consumers: () => [],
    stopwatch: () => clock.now(), // the read's 800 ms are the manual clock's
  });
  await sampler.overview();
  assert.equal(reads, 1);
  await clock.advance(3000); // 3 s after the read's answer: within 5 × 800 ms
  await sampler.overview();
  assert.equal(reads, 1, 'the cached overview is used');
  await clock.advance(1000); // 4 s after it
  await sampler.overview();
  assert.equal(reads, 2, 'read again once 5 × 800 ms have passed');
  sampler.stop();
});

test('a queue that appears between two samples counts its first adds towards λ', async () => {
  const clock = new ManualClock();
  const { ModelSampler } = await import('./sampler.ts');
  const counts = new Map<string, ReturnType<typeof zeroCounts>>();
  const sampler = new ModelSampler({
    clock,
    counts: () => new Map([...counts].map(([q, c]) => [q, { ...c }])),
    stats: async () => [...counts.keys()].map((queue) => ({ queue, counts: { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 }, oldestReadyAgeMs: 0, paused: false, length: 0, maxLength: null, overflow: 'reject' as const, unservable: 0 })),
    slots: () => new Map(),
    consumers: () => [],
  });
  sampler.start(); // the first sample: no queue yet
  counts.set('fresh', { ...zeroCounts(), added: 50 }); // 50 adds within the next second
  await clock.advance(1000); // the next sample sees the queue
  await clock.advance(1000);
  const o = await sampler.overview();
  const fresh = o.queues.find((q) => q.queue === 'fresh')!;
  assert.equal(fresh.model.windowMs, 2000);
  assert.equal(fresh.model.arrivalRate, 25, '50 adds over the 2 s since the sample before it appeared');
  sampler.stop();
});

function zeroCounts() {
  return { added: 0, claimed: 0, completed: 0, failed: 0, dead: 0, expired: 0, serviceMsSum: 0, serviceCount: 0, systemMsSum: 0, systemCount: 0, dropped: 0 };
}
