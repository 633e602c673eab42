import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { Spool } from '../../engine/spool.ts';
import { CLOSE } from '../../protocol/frames.ts';
import { RawWs } from '../../../test/support/raw-ws.ts';
import { startBroker, type Broker } from '../broker.ts';

// Every frame type of protocol v1, over a real socket to a real broker.

let spool: Spool;
let broker: Broker;
const sockets: RawWs[] = [];
const open = async (options?: Parameters<typeof RawWs.open>[1]) => {
  const ws = await RawWs.open(broker.wsUrl, options);
  sockets.push(ws);
  return ws;
};
const payload = (n: number) => ({ user: 12345, n });

before(async () => {
  spool = await Spool.open({ store: 'memory' });
  broker = await startBroker(spool, { port: 0, helloTimeoutMs: 300 });
});
after(async () => {
  for (const s of sockets) s.ws.terminate();
  await broker.close();
  await spool.close();
});

describe('connection', () => {
  test('hello → welcome with the protocol version, heartbeat and limits', async () => {
    const ws = await open({ hello: false });
    ws.send({ op: 'hello', v: 1, client: 'test' });
    const w = await ws.next();
    assert.equal(w.op, 'welcome');
    assert.equal(w.v, 1);
    assert.equal(typeof w.node, 'string');
    assert.ok(w.heartbeatMs > 0);
    assert.deepEqual(Object.keys(w.limits).sort(), ['batchMax', 'frameMaxBytes', 'inflightMax', 'requestsInflightMax']);
  });

  test('another protocol version is refused at hello, and at the upgrade by subprotocol', async () => {
    const ws = await open({ hello: false });
    ws.send({ op: 'hello', v: 2 });
    assert.equal((await ws.next()).error.code, 'UNSUPPORTED_VERSION');
    assert.equal((await ws.closed).code, CLOSE.unsupportedVersion);
    await assert.rejects(RawWs.open(broker.wsUrl, { protocol: 'spool.v9' }), /400/);
  });

  test('requests before hello are answered HELLO_REQUIRED; no hello in time closes the socket', async () => {
    const ws = await open({ hello: false });
    const r = await ws.request({ op: 'ping' });
    assert.equal(r.error.code, 'HELLO_REQUIRED');
    assert.equal((await ws.closed).code, CLOSE.timeout);
  });

  test('ping → ok; a second hello is an error', async () => {
    const ws = await open();
    assert.equal((await ws.request({ op: 'ping' })).op, 'ok');
    ws.send({ op: 'hello', v: 1 });
    assert.equal((await ws.next((f) => f.op === 'error')).error.code, 'INVALID_ARGUMENT');
  });

  test('upgrades on another path are refused with 404', async () => {
    const url = broker.wsUrl.replace('/v1/ws', '/nope');
    const ws = new WebSocket(url, 'spool.v1');
    ws.on('error', () => {});
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    assert.equal(status, 404);
    ws.terminate();
  });
});

describe('publish', () => {
  test('coalesced adds succeed or fail one by one; the confirm carries the stored job without its payload', async () => {
    const ws = await open();
    const r = await ws.ok({ op: 'publish', queue: 'pub', jobs: [{ payload: payload(1), priority: 3 }, { payload: 1, priority: 'high' }, { payload: payload(2), delayMs: 60_000 }] });
    assert.equal(r.results.length, 3);
    assert.equal(r.results[0].ok, true);
    assert.equal(r.results[0].value.priority, 3);
    assert.equal(r.results[0].value.state, 'ready');
    assert.equal('payload' in r.results[0].value, false);
    assert.deepEqual([r.results[1].ok, r.results[1].error.code], [false, 'INVALID_ARGUMENT']);
    assert.equal(r.results[2].value.state, 'scheduled');
    // Only the wire's add options are taken from a client: a `tx` (or a typo) is refused for that job alone, naming the field.
    const tx = await ws.ok({ op: 'publish', queue: 'pub', jobs: [{ payload: 3, tx: { query: 'x' } }, { payload: 4, dealyMs: 5 }, { payload: 5 }] });
    assert.deepEqual(tx.results.map((r: any) => r.ok ? 'ok' : r.error.field), ['tx', 'dealyMs', 'ok']);
    assert.match(tx.results[1].error.message, /unknown field "dealyMs"; did you mean "delayMs"\?/);
    assert.deepEqual((await spool.get(r.results[0].value.id)).payload, payload(1));
  });

  test('an atomic publish stores all or none', async () => {
    const ws = await open();
    const ok = await ws.ok({ op: 'publish', queue: 'atomic', atomic: true, jobs: [{ payload: 1 }, { payload: 2 }] });
    assert.equal(ok.jobs.length, 2);
    const bad = await ws.request({ op: 'publish', queue: 'atomic', atomic: true, jobs: [{ payload: 3 }, { payload: 4, maxAttempts: 0 }] });
    assert.equal(bad.error.code, 'INVALID_ARGUMENT');
    assert.equal((await spool.stats('atomic'))[0]!.counts.ready, 2);
  });

  test('an atomic publish with confirm "ids" answers the first job whole and the others as ids and what differs', async () => {
    const ws = await open();
    const r = await ws.ok({ op: 'publish', queue: 'compact', atomic: true, confirm: 'ids', jobs: [{ payload: 1 }, { payload: 2 }, { payload: 3, priority: 7 }] });
    assert.equal('jobs' in r, false);
    assert.equal(r.first.queue, 'compact');
    assert.equal('payload' in r.first, false);
    assert.deepEqual(r.others.map((o: Record<string, unknown>) => Object.keys(o)), [['id'], ['id', 'priority']], 'alike jobs come back as their ids');
    const stored = await Promise.all([r.first.id, ...r.others.map((o: { id: string }) => o.id)].map((id) => spool.get(id)));
    assert.deepEqual(stored.map((j) => [j.payload, j.priority]), [[1, 0], [2, 0], [3, 7]]);
  });
});

describe('subscribe, credit, deliver, settle', () => {
  test('deliveries never exceed the credits; credit frames allow more; unsubscribe stops them', async () => {
    await spool.addMany('credits', Array.from({ length: 10 }, (_, i) => ({ payload: i })));
    const ws = await open();
    await ws.ok({ op: 'subscribe', sub: 1, queue: 'credits', credits: 3 });
    const first = await ws.next((f) => f.op === 'deliver');
    assert.equal(first.sub, 1);
    assert.equal(first.jobs.length, 3);
    assert.ok(first.jobs.every((j: any) => j.state === 'active' && j.leaseToken > 0));
    await assert.rejects(ws.next((f) => f.op === 'deliver', 200), /no matching frame/);
    ws.send({ op: 'credit', sub: 1, n: 2 });
    assert.equal((await ws.next((f) => f.op === 'deliver')).jobs.length, 2);
    await ws.ok({ op: 'unsubscribe', sub: 1 });
    ws.send({ op: 'credit', sub: 1, n: 5 });
    await assert.rejects(ws.next((f) => f.op === 'deliver', 200), /no matching frame/);
    assert.equal((await spool.stats('credits'))[0]!.counts.active, 5);
  });

  test('ack, nack, extend and release: one result per lease, a stale lease fails alone', async () => {
    await spool.addMany('settle', Array.from({ length: 4 }, (_, i) => ({ payload: i })));
    const ws = await open();
    await ws.ok({ op: 'subscribe', sub: 7, queue: 'settle', credits: 4 });
    const jobs: any[] = [];
    while (jobs.length < 4) jobs.push(...(await ws.next((f) => f.op === 'deliver')).jobs);
    const [a, b, c, d] = jobs.map((j) => ({ jobId: j.id, token: j.leaseToken }));
    const ext = await ws.ok({ op: 'extend', leases: [{ ...a, leaseMs: 60_000 }, { ...a, token: 999 }] });
    assert.equal(ext.results[0].ok, true);
    assert.ok(ext.results[0].value > Date.now() + 50_000);
    assert.equal(ext.results[1].error.code, 'STALE_LEASE');
    const ack = await ws.ok({ op: 'ack', leases: [{ ...a, result: { sent: true } }, { jobId: 'not-a-job', token: 1 }] });
    assert.deepEqual(ack.results[0], { ok: true });
    assert.equal(ack.results[1].error.code, 'INVALID_ARGUMENT');
    assert.deepEqual((await spool.get(a!.jobId)).result, { sent: true });
    const nack = await ws.ok({ op: 'nack', leases: [{ ...b, error: 'boom' }, { ...c, error: 'bad input', unrecoverable: true }] });
    assert.deepEqual(nack.results.map((r: any) => r.value), ['scheduled', 'dead']);
    assert.equal((await spool.get(b!.jobId)).lastError, 'boom');
    assert.deepEqual((await ws.ok({ op: 'release', leases: [d] })).results, [{ ok: true }]);
    assert.equal((await spool.get(d!.jobId)).attempt, 0); // a released attempt is not counted
    const again = await ws.ok({ op: 'ack', leases: [a] });
    assert.equal(again.results[0].error.code, 'STALE_LEASE');
    assert.equal(again.results[0].error.currentState, 'completed');
  });

  test('a cancelled job is revoked from its subscriber', async () => {
    const job = await spool.add('revoke', 1);
    const ws = await open();
    await ws.ok({ op: 'subscribe', sub: 2, queue: 'revoke', credits: 1 });
    const [delivered] = (await ws.next((f) => f.op === 'deliver')).jobs;
    await spool.cancel(job.id);
    const r = await ws.next((f) => f.op === 'revoke');
    // The revoke names the lease it ends (job and token): a later lease on the same job is not meant.
    assert.deepEqual([r.sub, r.jobId, r.token, r.error.code], [2, job.id, delivered.leaseToken, 'STALE_LEASE']);
  });

  test('resumption: a lease taken on one connection is settled on the next', async () => {
    const job = await spool.add('resume', 1);
    const first = await open();
    await first.ok({ op: 'subscribe', sub: 1, queue: 'resume', credits: 1 });
    const [delivered] = (await first.next((f) => f.op === 'deliver')).jobs;
    await first.close();
    const second = await open();
    const r = await second.ok({ op: 'ack', leases: [{ jobId: delivered.id, token: delivered.leaseToken }] });
    assert.deepEqual(r.results, [{ ok: true }]);
    assert.equal((await spool.get(job.id)).state, 'completed');
  });

  test('a connection that closes holding leases: those it still holds end 1.5 heartbeats later; settled ones, and ones extended elsewhere since, are left alone', async () => {
    await spool.queue('abandon').configure({ visibilityTimeoutMs: 600_000 });
    const ids = (await spool.queue('abandon').addMany([1, 2, 3, 4].map((n) => ({ payload: n })))).map((j) => j.id);
    const ws = await open();
    await ws.ok({ op: 'subscribe', sub: 1, queue: 'abandon', credits: 4 });
    const jobs: { id: string; leaseToken: number; leaseExpiresAt: number }[] = [];
    while (jobs.length < 4) jobs.push(...(await ws.next((f) => f.op === 'deliver')).jobs);
    const [acked, held, movedAway, extended] = ids.map((id) => jobs.find((j) => j.id === id)!);
    const lease = (j: { id: string; leaseToken: number }) => ({ jobId: j.id, token: j.leaseToken });
    assert.deepEqual((await ws.ok({ op: 'ack', leases: [lease(acked!)] })).results, [{ ok: true }]);
    assert.equal((await ws.ok({ op: 'extend', leases: [lease(extended!)] })).results[0].ok, true);
    // The worker is back on another connection and extends one lease there: it is no longer this connection's to give up.
    const other = await open();
    // A later end than the one the first connection knows: wait for the engine's clock (steady, so a
    // few ms off the wall clock at times) to move on from the delivery.
    while (spool.clock.now() <= movedAway!.leaseExpiresAt - 600_000 + 2) await new Promise((r) => setImmediate(r));
    assert.equal((await other.ok({ op: 'extend', leases: [lease(movedAway!)] })).results[0].ok, true);
    const movedEnd = (await spool.get(movedAway!.id)).leaseExpiresAt!;

    const closedAt = spool.clock.now(); // the broker shortens by the engine's steady clock
    ws.ws.terminate();
    const withinMs = 15_000; // 1.5 × the broker's wsHeartbeatMs (10 s)
    const shortened = async (id: string) => (await spool.get(id)).leaseExpiresAt! <= spool.clock.now() + withinMs;
    // Waited for, not timed: the close reaches the broker when a loaded machine gets to it.
    const deadline = Date.now() + 120_000;
    while (!((await shortened(held!.id)) && (await shortened(extended!.id)))) {
      assert.ok(Date.now() < deadline, 'the leases the connection held to be shortened');
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const j of [held!, extended!]) {
      const end = (await spool.get(j.id)).leaseExpiresAt!;
      assert.ok(end >= closedAt + withinMs && end <= spool.clock.now() + withinMs, `${j.id}: ends 1.5 heartbeats after the close (${end - closedAt} ms)`);
    }
    assert.equal((await spool.get(acked!.id)).state, 'completed');
    assert.equal((await spool.get(movedAway!.id)).leaseExpiresAt, movedEnd, 'extended through another connection: untouched');
    // Back in time, the worker extends the shortened lease: the full visibility timeout again.
    const again = await other.ok({ op: 'extend', leases: [lease(held!)] });
    assert.ok(again.results[0].value > Date.now() + 500_000);
  });

  test('a subscription id is unique per connection', async () => {
    const ws = await open();
    await ws.ok({ op: 'subscribe', sub: 1, queue: 'dup', credits: 0 });
    assert.equal((await ws.request({ op: 'subscribe', sub: 1, queue: 'dup', credits: 0 })).error.code, 'INVALID_ARGUMENT');
  });
});

describe('calls', () => {
  test('every call method answers as its operation in the table (the same body as its HTTP route)', async () => {
    const ws = await open();
    const job = await spool.add('calls', { a: 1 });
    assert.equal((await ws.ok({ op: 'call', method: 'get', params: { jobId: job.id } })).id, job.id);
    assert.deepEqual((await ws.ok({ op: 'call', method: 'list', params: { queue: 'calls', limit: 10 } })).jobs.map((j: any) => j.id), [job.id]);
    assert.equal((await ws.ok({ op: 'call', method: 'stats', params: { queue: 'calls' } }))[0].counts.ready, 1);
    assert.ok((await ws.ok({ op: 'call', method: 'stats', params: {} })).some((s: any) => s.queue === 'calls'));
    assert.equal((await ws.ok({ op: 'call', method: 'configure', params: { queue: 'calls', config: { maxAttempts: 9 } } })).config.maxAttempts, 9);
    assert.equal((await ws.ok({ op: 'call', method: 'config', params: { queue: 'calls' } })).config.maxAttempts, 9);
    assert.equal((await ws.ok({ op: 'call', method: 'pause', params: { queue: 'calls' } })).paused, true);
    assert.equal((await spool.stats('calls'))[0]!.paused, true);
    await ws.ok({ op: 'call', method: 'resume', params: { queue: 'calls' } });
    assert.equal((await ws.ok({ op: 'call', method: 'cancel', params: { jobId: job.id } })).state, 'cancelled');
    assert.equal((await ws.ok({ op: 'call', method: 'retry', params: { jobId: job.id } })).state, 'ready');
    assert.deepEqual(await ws.ok({ op: 'call', method: 'purge', params: { queue: 'calls' } }), { purged: 1 });
    const other = await spool.add('calls', { b: 2 });
    assert.deepEqual(await ws.ok({ op: 'call', method: 'deleteJob', params: { jobId: other.id } }), { id: other.id, deleted: true });
    await spool.add('calls', { c: 3 });
    assert.deepEqual(await ws.ok({ op: 'call', method: 'bulk', params: { queue: 'calls', action: 'delete' } }), { matched: 1, changed: 1, skipped: 0, next: null });
    assert.deepEqual(await ws.ok({ op: 'call', method: 'deleteQueue', params: { queue: 'calls' } }), { name: 'calls', jobsDeleted: 0 });
    const typo = await ws.request({ op: 'call', method: 'list', params: { queue: 'calls', limt: 5 } });
    assert.deepEqual([typo.error.code, typo.error.field], ['INVALID_ARGUMENT', 'limt']);
    assert.match(typo.error.message, /unknown field "limt"; did you mean "limit"\?/);
    const missing = await ws.request({ op: 'call', method: 'get', params: { jobId: '01a20ba3-3018-754a-88bb-6a8c63fa24c7' } });
    assert.equal(missing.error.code, 'JOB_NOT_FOUND');
  });
});

describe('malformed frames', () => {
  test('each gets an error frame and the connection stays usable', async () => {
    const ws = await open();
    const cases: [unknown, string][] = [
      ['not json', 'a frame must be valid JSON'],
      [[1, 2], 'must be a JSON object'],
      [{ op: 'fly', id: 1 }, 'unknown op'],
      [{ op: 'publish' }, '"id"'],
      [{ op: 'publish', id: 2, queue: 'q', jobs: [] }, 'non-empty'],
      [{ op: 'publish', id: 5, queue: 'q', jobs: [{ payload: 1 }], waitMs: 300_001 }, '"waitMs" must be an integer from 0 to 300000'],
      [{ op: 'publish', id: 6, queue: 'q', atomic: true, confirm: 'all', jobs: [{ payload: 1 }] }, '"confirm" must be "ids"'],
      [{ op: 'publish', id: 7, queue: 'q', confirm: 'ids', jobs: [{ payload: 1 }] }, '"confirm" is for an atomic publish'],
      [{ op: 'ack', id: 3, leases: [{ jobId: 1 }] }, 'each lease'],
      [{ op: 'call', id: 4, method: 'drop' }, '"method"'],
      [{ op: 'credit', sub: -1, n: 1 }, '"sub" and "n"'],
    ];
    for (const [frame, message] of cases) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      const e = await ws.next((f) => f.op === 'error');
      assert.equal(e.error.code, 'INVALID_ARGUMENT');
      assert.match(e.error.message, new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
    ws.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.match((await ws.next((f) => f.op === 'error')).error.message, /text, not binary/);
    assert.equal((await ws.request({ op: 'ping' })).op, 'ok');
  });
});

describe('limits', () => {
  test('connectionsMax, consumerInflightMax, requestsInflightMax and the frame size are enforced', async () => {
    const small = await startBroker(spool, { port: 0, connectionsMax: 2, consumerInflightMax: 3, requestsInflightMax: 1, bodyMaxBytes: 4096 });
    try {
      const a = await RawWs.open(small.wsUrl);
      const b = await RawWs.open(small.wsUrl);
      await assert.rejects(RawWs.open(small.wsUrl), /429/);
      await spool.addMany('limited', Array.from({ length: 10 }, (_, i) => ({ payload: i })));
      await a.ok({ op: 'subscribe', sub: 1, queue: 'limited', credits: 10 });
      assert.equal((await a.next((f) => f.op === 'deliver')).jobs.length, 3);
      await assert.rejects(a.next((f) => f.op === 'deliver', 200), /no matching frame/);
      // Two requests at once on a connection allowed one: the second is refused, not queued.
      a.send({ op: 'call', id: 100, method: 'stats', params: {} });
      a.send({ op: 'ping', id: 101 });
      const replies = [await a.next((f) => f.id === 100), await a.next((f) => f.id === 101)];
      assert.deepEqual(replies.map((r) => r.op === 'error' ? r.error.code : 'ok'), ['ok', 'TOO_MANY']);
      b.send({ op: 'publish', id: 1, queue: 'q', jobs: [{ payload: 'x'.repeat(5000) }] });
      assert.equal((await b.closed).code, 1009);
      a.ws.terminate();
    } finally {
      await small.close();
    }
  });

  test('a connection that stops answering pings is closed', async () => {
    const fast = await startBroker(spool, { port: 0, wsHeartbeatMs: 100 });
    try {
      const ws = new WebSocket(fast.wsUrl, 'spool.v1', { autoPong: false });
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      await new Promise((resolve) => ws.on('open', resolve));
      ws.send(JSON.stringify({ op: 'hello', v: 1 }));
      const code = await closed;
      assert.equal(code, 1006); // terminated: no close handshake with a dead peer
    } finally {
      await fast.close();
    }
  });

  test('closing the broker tells clients to go away (1001)', async () => {
    const temp = await startBroker(spool, { port: 0 });
    const ws = await RawWs.open(temp.wsUrl);
    await temp.close();
    assert.equal((await ws.closed).code, CLOSE.goingAway);
  });
});
