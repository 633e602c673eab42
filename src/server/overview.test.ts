import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Spool } from '../engine/spool.ts';
import { RawWs } from '../../test/support/raw-ws.ts';
import type { Overview, OverviewHistory } from '../model/overview.ts';
import { startBroker, type Broker } from './broker.ts';
import { connect } from '../client/connect.ts';
import { waitFor } from '../store/conformance/worker.ts';

// The overview (stats + the live queueing model + consumers) over HTTP, a WebSocket call and
// the `watch` frame, from a real broker.

let spool: Spool;
let broker: Broker;

before(async () => {
  spool = await Spool.open({ store: 'memory' });
  broker = await startBroker(spool, { port: 0 });
});
after(async () => {
  await broker.close();
  await spool.close();
});

test('GET /v1/overview: every queue with its stats and model; history=true adds the last hour', async () => {
  await spool.queue('mail').addMany([{ payload: 1 }, { payload: 2 }]);
  // The overview is aggregated at most once a second: a read may be up to a second old.
  let o!: Overview & { history?: OverviewHistory };
  await waitFor(async () => {
    o = (await (await fetch(`${broker.url}/v1/overview`)).json()) as Overview & { history?: OverviewHistory };
    return o.queues.some((q) => q.queue === 'mail');
  }, 20_000, 'the new queue in the overview');
  const mail = o.queues.find((q) => q.queue === 'mail');
  assert.ok(mail, JSON.stringify(o));
  assert.equal(mail.counts.ready, 2);
  assert.equal(mail.model.length, 2);
  assert.equal(typeof mail.model.arrivalRate, 'number');
  assert.equal(o.history, undefined);
  const h = (await (await fetch(`${broker.url}/v1/overview?history=true`)).json()) as Overview & { history: OverviewHistory };
  assert.equal(h.history.stepMs, 10_000);
  assert.ok(Array.isArray(h.history.at));
  assert.equal((await fetch(`${broker.url}/v1/overview?histroy=true`)).status, 400, 'an unknown parameter is refused');
});

test('a remote worker is listed among the consumers with its slots; watch pushes the overview as it changes', async () => {
  const client = await connect(broker.wsUrl, { client: 'billing-worker', tags: { team: 'payments', region: 'eu-west-1' } });
  const release = Promise.withResolvers<void>();
  const worker = client.queue('bills').work(async () => release.promise, { concurrency: 3 });
  const raw = await RawWs.open(broker.wsUrl);
  try {
    const first = await raw.ok({ op: 'watch' });
    assert.ok(Array.isArray(first.queues), 'the overview now, as the reply');
    await spool.queue('bills').add({ n: 1 });
    // Pushed frames, at most one a second: wait for the one that shows the job running.
    const pushed = await raw.next((f) => f.op === 'overview' && f.value.queues.some((q: { queue: string; counts: { active: number } }) => q.queue === 'bills' && q.counts.active === 1), 20_000);
    const o = pushed.value as Overview;
    const bills = o.queues.find((q) => q.queue === 'bills')!;
    assert.equal(bills.model.workers, 3, 'c: the remote worker\'s slots');
    const consumer = o.consumers.find((c) => c.queues.some((q) => q.queue === 'bills'))!;
    assert.ok(consumer, JSON.stringify(o.consumers));
    assert.deepEqual(consumer.queues, [{ queue: 'bills', slots: 3, inFlight: 1 }]);
    assert.equal(consumer.client, 'billing-worker');
    assert.deepEqual(consumer.tags, { team: 'payments', region: 'eu-west-1' });
    // The processes sharing the store: this broker alone, leading its store's upkeep, with its one client.
    assert.deepEqual(o.processes.map((p) => [p.pid, p.leader, p.consumers]), [[process.pid, true, 1]]);
    assert.match(consumer.address, /^(::ffff:)?127\.0\.0\.1:\d+$/);
    assert.ok(consumer.lastSeenAt >= consumer.connectedAt);
    assert.equal((await raw.request({ op: 'unwatch' })).op, 'ok');
  } finally {
    release.resolve();
    await worker.close();
    await client.close();
    await raw.close();
  }
});

test('a web page of another site cannot drive the broker: cross-site HTTP requests and WebSocket upgrades are refused', async () => {
  await spool.queue('guarded').add(1);
  const purge = await fetch(`${broker.url}/v1/queues/guarded/purge`, { method: 'POST', headers: { origin: 'https://evil.example' } });
  assert.equal(purge.status, 403);
  assert.equal(((await purge.json()) as { code: string }).code, 'FORBIDDEN');
  const fetchSite = await fetch(`${broker.url}/v1/queues/guarded/pause`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(fetchSite.status, 403);
  assert.equal((await spool.queue('guarded').stats()).counts.ready, 1, 'nothing was purged');
  assert.equal((await spool.queue('guarded').stats()).paused, false, 'nothing was paused');
  const sameOrigin = await fetch(`${broker.url}/v1/queues/guarded/stats`, { headers: { origin: broker.url } });
  assert.equal(sameOrigin.status, 200, 'the dashboard, served by the broker itself, is of the same origin');
  await assert.rejects(RawWs.open(broker.wsUrl, { headers: { origin: 'https://evil.example' } }));
  const ok = await RawWs.open(broker.wsUrl, { headers: { origin: broker.url } });
  await ok.close();
});

test('tags are checked where they are given (Spool.connect) and where they arrive (hello), naming the tag at fault', async () => {
  await assert.rejects(connect(broker.wsUrl, { tags: { 'bad name': 'x' } }), (err: Error & { field?: string }) =>
    err.field === 'tags.bad name' && /tag name "bad name" is not valid/.test(err.message));
  await assert.rejects(connect(broker.wsUrl, { tags: { gpu: 7 as unknown as string } }), /tags\.gpu must be a string of at most 256 characters/);
  await assert.rejects(connect(broker.wsUrl, { tags: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`t${i}`, 'x'])) }), /at most 16 tags \(got 17\)/);
  // A client in another language that sends a bad hello is told why.
  const raw = await RawWs.open(broker.wsUrl, { hello: false });
  try {
    raw.send({ op: 'hello', v: 1, tags: { ok: 'yes', 'no way': 'x' } });
    const reply = await raw.next((f) => f.op === 'error', 20_000);
    assert.match(reply.error.message, /hello: tags: tag name "no way" is not valid/);
  } finally {
    await raw.close();
  }
});

test('resource tags and capacity in subscribe are checked where they arrive, naming what is wrong', async () => {
  const raw = await RawWs.open(broker.wsUrl);
  try {
    raw.send({ op: 'subscribe', id: 1, sub: 1, queue: 'q', credits: 1, tags: ['gpu', 'no way'] });
    assert.match((await raw.next((f) => f.op === 'error' && f.id === 1, 20_000)).error.message, /subscribe: tags: tag "no way" is not valid/);
    raw.send({ op: 'subscribe', id: 2, sub: 2, queue: 'q', credits: 1, capacity: 0 });
    assert.match((await raw.next((f) => f.op === 'error' && f.id === 2, 20_000)).error.message, /"capacity" must be an integer from 1 to 10000/);
    raw.send({ op: 'subscribe', id: 3, sub: 3, queue: 'q', credits: 1, tags: ['gpu'], capacity: 4 });
    assert.equal((await raw.next((f) => (f.op === 'ok' || f.op === 'error') && f.id === 3, 20_000)).op, 'ok');
  } finally {
    await raw.close();
  }
});
