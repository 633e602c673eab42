import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { connect } from '../../client/connect.ts';
import { QueueFullError } from '../../core/errors.ts';
import { Spool } from '../../engine/spool.ts';
import { startBroker } from '../../server/broker.ts';

/** Two processes' worth of Spool on one schema (no waiting for room: a full queue refuses at once). */
async function twoSpools(schema: string): Promise<[Spool, Spool]> {
  const open = () => Spool.open({ store: testPgUrl(), schema, maintenance: false, queueFullWaitMs: 0, onError: () => {} });
  const a = await open(); // migrates the schema first
  return [a, await open()];
}

describe('bounded queues on PostgreSQL, several Spools on one schema', () => {
  it('50 concurrent adds through two Spool instances into a queue bounded at 10 store exactly 10', async (t) => {
    const [a, b] = await twoSpools(uniqueSchema('bounded'));
    t.after(async () => { await a.close(); await b.close(); });
    await a.configureQueue('peak', { maxLength: 10 });
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).queue('peak').add({ i })));
    const stored = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refused = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof QueueFullError).length;
    assert.deepEqual([stored, refused], [10, 40]);
    const stats = await b.queue('peak').stats();
    assert.deepEqual([stats.counts.ready, stats.length, stats.maxLength], [10, 10, 10]);
  });

  it('50 concurrent adds through two brokers (remote clients) store exactly 10; with drop-oldest all 50 are taken and 10 wait', async (t) => {
    const schema = uniqueSchema('bounded');
    const spools = await twoSpools(schema);
    const brokers = await Promise.all(spools.map((s) => startBroker(s, { host: '127.0.0.1', port: 0 })));
    const clients = await Promise.all(brokers.map((b) => connect(b.wsUrl, { queueFullWaitMs: 0, onError: () => {}, log: () => {} })));
    t.after(async () => {
      for (const c of clients) await c.close();
      for (const b of brokers) await b.close();
      for (const s of spools) await s.close();
    });
    await spools[0].configureQueue('peak', { maxLength: 10 });
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => clients[i % 2]!.queue('peak').add({ i })));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 10);
    assert.ok(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof QueueFullError), 'every refusal is QUEUE_FULL, rebuilt as its class');

    await spools[1].configureQueue('shed', { maxLength: 10, overflow: 'drop-oldest' });
    const drops = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => clients[i % 2]!.queue('shed').add({ i })));
    assert.ok(drops.every((o) => o.status === 'fulfilled'));
    const stats = await spools[0].queue('shed').stats();
    assert.deepEqual([stats.counts.ready, stats.counts.dead], [10, 40]);
    const dropped = (await spools[0].queue('shed').list({ state: 'dead', limit: 100 })).map((j) => j.deadReason);
    assert.ok(dropped.length === 40 && dropped.every((r) => r === 'dropped'));
  });

  it("an add in the caller's transaction is checked before it writes and never waits: refused, the transaction can still commit", async (t) => {
    // The default queueFullWaitMs (10 s): a wait would hold the queue's lock in the caller's transaction.
    const spool = await Spool.open({ store: testPgUrl(), schema: uniqueSchema('bounded'), maintenance: false, onError: () => {} });
    const client = new pg.Client({ connectionString: testPgUrl() });
    t.after(async () => { await client.end(); await spool.close(); });
    await client.connect();
    const q = spool.queue('tx');
    await q.configure({ maxLength: 2 });
    await q.add({ n: 1 });
    await client.query('BEGIN');
    await assert.rejects(q.addMany([{ payload: 2, tx: client }, { payload: 3, tx: client }]), QueueFullError);
    await q.add(4, { tx: client });
    await client.query('COMMIT');
    assert.deepEqual((await q.list()).map((j) => j.payload), [{ n: 1 }, 4]);
    await client.query('BEGIN');
    await assert.rejects(q.add(5, { tx: client }), QueueFullError);
    await client.query('COMMIT');
    assert.equal((await q.stats()).length, 2);
  });
});
