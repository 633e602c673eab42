/**
 * Phantom acks: a remote worker's lease op that is sent again after a reconnect must not be
 * reported as applied unless that very lease applied it. A real broker, a remote client
 * behind a TCP relay that can be partitioned, and a second client straight to the broker.
 * Every step waits for a state (bounded), never for a time.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { inspect } from 'node:util';
import { StaleLeaseError } from '../core/errors.ts';
import type { Job } from '../core/job.ts';
import { Spool } from '../engine/spool.ts';
import { connect } from './connect.ts';
import { startBroker } from '../server/broker.ts';
import type { RemoteSpool } from './remote-spool.ts';
import { quiet, waitFor } from '../../test/support/remote.ts';
import { PartitionRelay as Relay } from '../../test/support/relay.ts';

/** Longest any one state may take to come about on a loaded CI machine. */
const STATE_WAIT_MS = 20_000;

/**
 * A memory Spool behind a broker; client A through a partitionable relay (reconnecting
 * quickly once healed) and client B straight to the broker. All closed when the test ends.
 */
async function setup(t: TestContext): Promise<{ spool: Spool; relay: Relay; a: RemoteSpool; b: RemoteSpool; brokerUrl: string }> {
  const spool = await Spool.open({ store: 'memory', ...quiet });
  const broker = await startBroker(spool, { port: 0 });
  const relay = await Relay.open(broker.port);
  t.after(() => relay.close());
  const a = await connect(`ws://127.0.0.1:${relay.port}/v1/ws`, { ...quiet, reconnectBaseMs: 20, reconnectMaxMs: 20 });
  const b = await connect(broker.wsUrl, quiet);
  t.after(async () => {
    relay.heal(); // a failed assertion must not leave A waiting on a partition through its close
    await a.close();
    await b.close();
    await broker.close();
    await spool.close();
  });
  return { spool, relay, a, b, brokerUrl: broker.url };
}

/** Takes exactly one delivery from `queue` (one credit, never more: a redelivery cannot come back here). */
async function receiveOne(api: RemoteSpool, queue: string): Promise<Job> {
  const got: Job[] = [];
  api.subscribe(queue, { deliver: (jobs) => got.push(...jobs), revoke: () => {} }).addCredits(1);
  await waitFor(`a delivery from ${queue}`, () => got.length === 1, STATE_WAIT_MS);
  return got[0]!;
}

/** The outcome of a promise once settled, so a test can wait for it without an unhandled rejection meanwhile. */
function outcome(p: Promise<unknown>): { settled: () => boolean; value: () => unknown } {
  let done = false;
  let value: unknown;
  p.then((v) => ({ ok: v }), (err: unknown) => ({ err })).then((v) => {
    value = v;
    done = true;
  });
  return { settled: () => done, value: () => value };
}

describe('lease operations sent again after a reconnect (real broker, partitioned relay)', () => {
  for (const op of ['ack', 'nack'] as const) {
    it(`an expired lease's ${op}, sent again after another worker completed the job, fails STALE_LEASE with the completing token`, async (t) => {
      const { spool, relay, a, b, brokerUrl } = await setup(t);
      const queue = `phantom-${op}`;
      // The shortest lease allowed, so A's runs out while A is cut off.
      await spool.queue(queue).configure({ visibilityTimeoutMs: 100 });
      const { id } = await spool.queue(queue).add('work');
      const first = await receiveOne(a, queue);
      const token = first.leaseToken;

      relay.cut('both');
      const settled = outcome(op === 'ack' ? a.ack({ jobId: id, token }, 'from A') : a.nack({ jobId: id, token }, new Error('from A')));
      // A sent it on a connection it believes is up: a reconnect sends it again (the re-send the bug is about).
      await waitFor(`A's ${op} to be sent into the partition`, () => relay.lostRequestBytes() > 0, STATE_WAIT_MS);

      await waitFor('the broker to take A\'s expired lease back', async () => {
        await spool.runMaintenance();
        return (await spool.get(id)).state === 'ready';
      }, STATE_WAIT_MS);
      const second = await receiveOne(b, queue);
      assert.equal(second.leaseToken, token + 1, 'the redelivery is a new lease');
      await b.ack({ jobId: id, token: second.leaseToken }, 'from B');

      relay.heal();
      await waitFor(`A's ${op} to settle after the reconnect`, settled.settled, STATE_WAIT_MS);
      assert.equal(relay.connections(), 2, 'A reconnected through the relay');
      const { err } = settled.value() as { err?: unknown };
      assert.ok(err instanceof StaleLeaseError, `A's ${op} must fail StaleLeaseError, not count as applied: ${inspect(settled.value())}`);
      assert.deepEqual([err.jobId, err.currentState, err.currentToken], [id, 'completed', token + 1]);
      const job = await spool.get(id);
      assert.equal(job.state, 'completed');
      assert.equal(job.result, 'from B', "B's result is kept");
      assert.equal(job.leaseToken, token + 1);

      // The HTTP API sends the same fields in its error body.
      const res = await fetch(`${brokerUrl}/v1/ack`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ leases: [{ jobId: id, token }] }),
      });
      const body = (await res.json()) as { results: { ok: boolean; error?: Record<string, unknown> }[] };
      assert.deepEqual(
        [body.results[0]!.error?.code, body.results[0]!.error?.currentState, body.results[0]!.error?.currentToken],
        ['STALE_LEASE', 'completed', token + 1],
      );
    });
  }

  it('an ack whose confirm was lost is sent again after the reconnect and resolves: its own first copy completed the job', async (t) => {
    const { spool, relay, a } = await setup(t);
    // A lease far longer than the test: it must not run out while the confirm is lost.
    await spool.queue('confirm-lost').configure({ visibilityTimeoutMs: 10 * 60_000 });
    const { id } = await spool.queue('confirm-lost').add('work');
    const first = await receiveOne(a, 'confirm-lost');

    relay.cut('replies');
    const settled = outcome(a.ack({ jobId: id, token: first.leaseToken }, 'from A'));
    await waitFor("A's ack to reach the broker", async () => (await spool.get(id)).state === 'completed', STATE_WAIT_MS);
    assert.equal(settled.settled(), false, 'the confirm was lost in the partition');

    relay.heal();
    await waitFor("A's ack to settle after the reconnect", settled.settled, STATE_WAIT_MS);
    assert.equal(relay.connections(), 2, 'A reconnected through the relay');
    assert.deepEqual(settled.value(), { ok: undefined }, 'the ack sent again counts as done');
    const job = await spool.get(id);
    assert.deepEqual([job.state, job.result, job.leaseToken], ['completed', 'from A', first.leaseToken]);
  });
});
