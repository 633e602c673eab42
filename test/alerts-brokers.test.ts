import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import type { AlertWebhookBody } from '../src/alerts/webhook.ts';
import { webhookReceiver } from '../src/store/conformance/webhook-receiver.ts';
import { startBroker, until } from './support/broker.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

type Remote = Awaited<ReturnType<typeof Spool.connect>>;

describe('alerts with two brokers on one PostgreSQL (real processes, a real webhook receiver)', () => {
  it('one webhook call per firing and per resolution, also after the leader is killed', { timeout: 120_000 }, async (t) => {
    const receiver = await webhookReceiver();
    t.after(() => receiver.close());
    const webhook = receiver.url;
    const calls = (): AlertWebhookBody[] => receiver.calls.map((c) => c.body);

    const url = testPgUrl();
    const schema = uniqueSchema('alerts');
    const args = ['--schema', schema, '--set', 'heartbeatIntervalMs=1000', '--set', 'leaderLeaseMs=500', '--set', 'maintenanceIntervalMs=100'];
    const a = await startBroker(t, url, 0, args);
    const b = await startBroker(t, url, 0, args);
    const viaA = await Spool.connect(a.wsUrl);
    const viaB = await Spool.connect(b.wsUrl);
    t.after(() => viaB.close());
    await viaA.setAlert({ id: 'waiting', queue: 'work', kind: 'oldestReadyAge', threshold: 0, webhook });

    const delivered = async (n: number) => {
      const events = await viaB.alertEvents();
      return events.length === n && events.every((e) => e.delivery === 'delivered');
    };
    /** A job waits (no worker): the rule fires; a worker takes it: the rule resolves. Each call exactly once. */
    const cycle = async (round: number, through: Remote) => {
      await through.queue('work').add({ round });
      await until(() => delivered(2 * round - 1), 30_000, () => `firing ${round} to be delivered (calls: ${JSON.stringify(calls())})`, 100);
      assert.equal(calls().length, 2 * round - 1, 'one call for the firing');
      assert.equal(calls().at(-1)!.event, 'firing');
      const worker = through.queue('work').work(async () => {});
      await until(() => delivered(2 * round), 30_000, () => `resolution ${round} to be delivered (calls: ${JSON.stringify(calls())})`, 100);
      await worker.close();
      assert.equal(calls().length, 2 * round, 'one call for the resolution');
      assert.equal(calls().at(-1)!.event, 'resolved');
    };

    await cycle(1, viaA);
    await cycle(2, viaB);
    await viaA.close();
    a.child.kill('SIGKILL'); // whichever led, the other evaluates now
    await a.exited;
    await cycle(3, viaB);
    assert.deepEqual(calls().map((c) => c.event), ['firing', 'resolved', 'firing', 'resolved', 'firing', 'resolved']);
    assert.equal(new Set(calls().map((c) => c.id)).size, 6, 'six events, each sent once');
    assert.ok(calls().every((c) => c.attempt === 1));
  });
});
