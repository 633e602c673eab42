/**
 * `GET /v1/queues/{queue}/capacity` and the WebSocket call `capacity` from a real broker, over a
 * load whose numbers are known: a job arrives every 100 ms (λ = 10/s) and runs exactly 200 ms
 * (S) on a subscription with c slots. Time is a ManualClock, so S is exact and nothing depends
 * on how fast the machine is; every wait is for a state.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import type { Lease } from '../core/job.ts';
import { Spool } from '../engine/spool.ts';
import type { QueueCapacity } from '../model/capacity.ts';
import type { Overview } from '../model/overview.ts';
import { MMC_ASSUMPTIONS, meanQueueWaitMs, workersFor } from '../model/queueing.ts';
import { waitFor } from '../store/conformance/worker.ts';
import { okJson, tempDir } from '../../test/support/cli.ts';
import { RawWs } from '../../test/support/raw-ws.ts';
import { startBroker, type Broker } from './broker.ts';

const clock = new ManualClock();
let spool: Spool;
let broker: Broker;

before(async () => {
  spool = await Spool.open({ store: 'memory', clock, maintenance: false, pollIntervalMs: 60_000, onError: () => {} });
  broker = await startBroker(spool, { port: 0 });
  await spool.overview(); // the sampler runs from here, on the manual clock
});
after(async () => {
  await broker.close();
  await spool.close();
});

const get = async (path: string): Promise<{ status: number; json: any }> => {
  const res = await fetch(broker.url + path);
  return { status: res.status, json: await res.json() };
};

/**
 * `steps` arrivals into `queue`, one per 100 ms, each job held 200 ms by a subscription with
 * `slots` credits (a job that finds every slot taken waits for one), then a second more so the
 * overview is aggregated afresh.
 */
async function load(queue: string, slots: number, steps: number): Promise<void> {
  await spool.queue(queue).configure({ visibilityTimeoutMs: 60_000 }); // a lease never expires while the clock jumps
  const held: { lease: Lease; due: number }[] = [];
  let delivered = 0;
  let acked = 0;
  const sub = spool.subscribe(queue, {
    deliver: (jobs) => {
      for (const j of jobs) held.push({ lease: { jobId: j.id, token: j.leaseToken }, due: clock.now() + 200 });
      delivered += jobs.length;
    },
    revoke: () => {},
  });
  sub.addCredits(slots);
  for (let added = 1; added <= steps; added++) {
    await spool.queue(queue).add(added);
    await waitFor(() => delivered === Math.min(added, acked + slots), 20_000, 'the deliveries the free slots take');
    await clock.advance(100);
    for (const h of held.filter((x) => x.due <= clock.now())) {
      await spool.ack(h.lease);
      held.splice(held.indexOf(h), 1);
      acked++;
      sub.addCredits(1);
    }
    await waitFor(() => delivered === Math.min(added, acked + slots), 20_000, 'the deliveries of the freed slots');
  }
  await clock.advance(1000);
}

/** The capacity answer and the overview of the same aggregation (the clock stands still between them). */
async function both(queue: string, query = ''): Promise<{ capacity: QueueCapacity; overview: Overview }> {
  const capacity = await get(`/v1/queues/${queue}/capacity${query}`);
  assert.equal(capacity.status, 200, JSON.stringify(capacity.json));
  const overview = (await get('/v1/overview')).json as Overview;
  assert.equal(overview.at, capacity.json.at, 'one aggregation: the clock did not move');
  return { capacity: capacity.json, overview };
}

test("the answer is the overview's λ, S and c, with Wq and the workers needed computed from them by M/M/c", async () => {
  await load('calls', 4, 100);
  const { capacity: c, overview } = await both('calls', '?targetWaitMs=5');
  const m = overview.queues.find((q) => q.queue === 'calls')!.model;
  assert.deepEqual([c.queue, c.windowMs, c.arrivalRate, c.serviceTimeMs, c.workers, c.utilisation], ['calls', m.windowMs, m.arrivalRate, m.serviceTimeMs, m.workers, m.utilisation]);
  // The load is what it was made to be: S = 200 ms exactly, 4 slots, and λ = 10/s but for the up to
  // one second of the window before the first arrival or after the last (100 arrivals in 10–11 s).
  assert.ok(c.arrivalRate >= 8 && c.arrivalRate <= 10, `λ = ${c.arrivalRate}`);
  assert.deepEqual([c.serviceTimeMs, c.workers, c.overloaded, c.targetWaitMs, c.assumptions], [200, 4, false, 5, MMC_ASSUMPTIONS]);
  assert.equal(c.predictedWaitMs, meanQueueWaitMs(4, c.arrivalRate, 200));
  assert.equal(c.workersNeeded, workersFor(5, c.arrivalRate, 200));
  // Known values for λ from 8 to 10.5/s (1.6–2.1 erlangs): Wq(4) is 7.6–21 ms, Wq(5) 1.5–4.9 ms.
  assert.ok(c.predictedWaitMs! > 7 && c.predictedWaitMs! < 22, `Wq = ${c.predictedWaitMs}`);
  assert.equal(c.workersNeeded, 5);

  const byDefault = (await get('/v1/queues/calls/capacity')).json as QueueCapacity;
  assert.deepEqual([byDefault.targetWaitMs, byDefault.workersNeeded], [1000, workersFor(1000, c.arrivalRate, 200)], 'the target by default: capacityTargetWaitMs');

  const ws = await RawWs.open(broker.wsUrl);
  try {
    assert.deepEqual(await ws.ok({ op: 'call', method: 'capacity', params: { queue: 'calls', targetWaitMs: 5 } }), c, 'the WebSocket call answers the same');
    const refused = await ws.request({ op: 'call', method: 'capacity', params: { queue: 'calls', target: 10 } });
    assert.equal(refused.error.code, 'INVALID_ARGUMENT');
  } finally {
    await ws.close();
  }
});

test('spool stats --json through the broker carries the model the API answers', async (t) => {
  // The clock stands still, so the CLI reads the aggregation the API answered from.
  const { overview } = await both('calls');
  const rows = await okJson<{ queue: string; model: unknown }[]>(tempDir(t), ['stats', '--json', '--url', broker.url]);
  const calls = rows.find((r) => r.queue === 'calls');
  assert.deepEqual(calls?.model, overview.queues.find((q) => q.queue === 'calls')!.model);
  const [one] = await okJson<{ queue: string; model: unknown }[]>(tempDir(t), ['stats', 'calls', '--json', '--url', broker.url]);
  assert.deepEqual(one?.model, calls?.model, 'one queue: the same');
});

test('λ·S ≥ c is overloaded: no predicted wait (null, not Infinity), and the workers that would keep up', async () => {
  await load('slow', 1, 50);
  const { capacity: c } = await both('slow', '?targetWaitMs=200');
  assert.deepEqual([c.workers, c.serviceTimeMs], [1, 200]);
  assert.ok(c.arrivalRate >= 8 && c.arrivalRate <= 11, `λ = ${c.arrivalRate}: a = λ·S is 1.6 erlangs or more, on one slot`);
  assert.deepEqual([c.overloaded, c.predictedWaitMs], [true, null]);
  assert.equal(c.workersNeeded, workersFor(200, c.arrivalRate, 200));
  assert.equal(c.workersNeeded, 3, 'for λ from 8 to 11/s: Wq(2) is 356 ms or more, Wq(3) 136 ms or less');
});

test('a queue no job or setting made is 404 QUEUE_NOT_FOUND; a bad or unknown parameter is 400', async () => {
  const missing = await get('/v1/queues/nowhere/capacity');
  assert.deepEqual([missing.status, missing.json.code], [404, 'QUEUE_NOT_FOUND']);
  for (const query of ['targetWaitMs=0', 'targetWaitMs=86400001', 'targetWaitMs=1.5', 'targetWaitMs=soon', 'target=100']) {
    const bad = await get(`/v1/queues/calls/capacity?${query}`);
    assert.deepEqual([bad.status, bad.json.code], [400, 'INVALID_ARGUMENT'], query);
  }
  const edge = await get('/v1/queues/calls/capacity?targetWaitMs=86400000');
  assert.equal(edge.status, 200, 'the bound itself is accepted');
});

test('a queue the overview has not aggregated yet answers with an empty window, not an error', async () => {
  await spool.queue('fresh').add(1); // the clock stands still: the cached overview predates it
  const c = (await get('/v1/queues/fresh/capacity')).json as QueueCapacity;
  assert.deepEqual([c.windowMs, c.arrivalRate, c.serviceTimeMs, c.workers, c.predictedWaitMs, c.workersNeeded], [0, 0, null, 0, null, 0]);
  await clock.advance(1000);
  const later = (await get('/v1/queues/fresh/capacity')).json as QueueCapacity;
  assert.ok(later.at > c.at, 'the next aggregation');
});
