/**
 * Exactly-once publish across reconnects: an add whose confirm was lost is sent again by the
 * remote client after it reconnects, with the idempotency key it chose when it first sent it,
 * so the store holds one job. A real broker, a client behind a TCP relay that drops the
 * broker's replies, and the HTTP `Idempotency-Key` header. Every step waits for a state
 * (bounded), never for a time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spool } from '../engine/spool.ts';
import { connect } from './connect.ts';
import { startBroker } from '../server/broker.ts';
import { quiet, waitFor } from '../../test/support/remote.ts';
import { PartitionRelay } from '../../test/support/relay.ts';

/** Longest any one state may take to come about on a loaded CI machine. */
const STATE_WAIT_MS = 20_000;

describe('exactly-once publish across reconnects', () => {
  it('an add whose confirm was lost is sent again after the reconnect and answered with the job stored the first time', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    const broker = await startBroker(spool, { port: 0 });
    const relay = await PartitionRelay.open(broker.port);
    t.after(() => relay.close());
    const client = await connect(`ws://127.0.0.1:${relay.port}/v1/ws`, { ...quiet, reconnectBaseMs: 20, reconnectMaxMs: 20 });
    t.after(async () => {
      relay.heal();
      await client.close();
      await broker.close();
      await spool.close();
    });

    await spool.queue('orders').configure({}); // the queue exists, so the wait below can list it
    relay.cut('replies');
    let settled = false;
    const added = client.queue('orders').add({ order: 42 }); // no key: the client chooses one
    void added.then(() => (settled = true), () => (settled = true));
    // The publish reached the broker and was stored; its confirm is lost on the way back.
    await waitFor('the publish to be stored', async () => (await spool.queue('orders').list()).length === 1, STATE_WAIT_MS);
    const [stored] = await spool.queue('orders').list();
    assert.equal(settled, false, 'the confirm did not reach the client');

    relay.heal(); // the connection ends; the client reconnects and sends the unanswered publish again
    const job = await added;
    assert.equal(relay.connections(), 2, 'the client reconnected through the relay');
    assert.equal(job.id, stored!.id, 'the re-sent add is answered with the job stored the first time');
    assert.deepEqual(job.payload, { order: 42 });
    const all = await spool.queue('orders').list();
    assert.deepEqual(all.map((j) => j.id), [stored!.id], 'the store holds one job');
    assert.equal((await spool.stats('orders'))[0]!.counts.ready, 1);
  });

  it('HTTP: the Idempotency-Key header makes a single add idempotent; a batch gives keys per job', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    const broker = await startBroker(spool, { port: 0 });
    t.after(async () => {
      await broker.close();
      await spool.close();
    });
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${broker.url}/v1/queues/mail/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    const first = await post({ payload: { to: 'a@example.com' } }, { 'Idempotency-Key': 'welcome-a' });
    assert.equal(first.status, 201);
    const job = (await first.json()) as { id: string; state: string };
    const replay = await post({ payload: { to: 'a@example.com' } }, { 'Idempotency-Key': 'welcome-a' });
    assert.equal(replay.status, 201, 'a replay answers as the first add did');
    assert.equal(((await replay.json()) as { id: string }).id, job.id);
    // The body's field does the same, and agrees with the header.
    const viaBody = await post({ payload: 1, idempotencyKey: 'welcome-a' }, { 'Idempotency-Key': 'welcome-a' });
    assert.equal(((await viaBody.json()) as { id: string }).id, job.id);
    assert.equal((await spool.queue('mail').list()).length, 1);

    // A batch: keys per job in the body; the header is refused there, as are keys that differ.
    const batch = await post({ jobs: [{ payload: 1, idempotencyKey: 'welcome-a' }, { payload: 2, idempotencyKey: 'welcome-b' }, { payload: 3, idempotencyKey: 'welcome-b' }] });
    assert.equal(batch.status, 201);
    const { jobs } = (await batch.json()) as { jobs: { id: string }[] };
    assert.equal(jobs[0]!.id, job.id);
    assert.equal(jobs[2]!.id, jobs[1]!.id);
    assert.equal((await spool.queue('mail').list()).length, 2);
    for (const [body, headers] of [
      [{ jobs: [{ payload: 1 }] }, { 'Idempotency-Key': 'x' }],
      [{ payload: 1, idempotencyKey: 'one' }, { 'Idempotency-Key': 'other' }],
      [{ payload: 1 }, { 'Idempotency-Key': 'k'.repeat(129) }],
    ] as const) {
      const res = await post(body, headers);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = (await res.json()) as Record<string, unknown>;
      assert.match(JSON.stringify(error), /idempotencyKey/, JSON.stringify(error));
    }
    assert.equal((await spool.queue('mail').list()).length, 2);
  });
});
