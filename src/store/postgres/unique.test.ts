import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import postgres from 'postgres';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { connect } from '../../client/connect.ts';
import type { Job } from '../../core/job.ts';
import { Spool } from '../../engine/spool.ts';
import { startBroker } from '../../server/broker.ts';

/** Two processes' worth of Spool on one schema. */
async function twoSpools(schema: string): Promise<[Spool, Spool]> {
  const open = () => Spool.open({ store: testPgUrl(), schema, maintenance: false, onError: () => {} });
  const a = await open(); // migrates the schema first
  return [a, await open()];
}

/** Exactly one of `jobs` was stored; the others are its duplicates. */
function exactlyOne(jobs: readonly Job[]): string {
  const ids = new Set(jobs.map((j) => j.id));
  assert.equal(ids.size, 1, `one job for all: ${[...ids].join(', ')}`);
  assert.equal(jobs.filter((j) => j.duplicate === undefined).length, 1);
  assert.equal(jobs.filter((j) => j.duplicate === true).length, jobs.length - 1);
  return jobs[0]!.id;
}

describe('unique keys on PostgreSQL, several Spools on one schema', () => {
  it('50 concurrent adds of one key through two Spool instances store exactly one job; batches too', async (t) => {
    const [a, b] = await twoSpools(uniqueSchema('unique'));
    t.after(async () => { await a.close(); await b.close(); });
    const id = exactlyOne(await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).queue('q').add({ i }, { uniqueKey: 'k' }))));
    assert.deepEqual((await b.queue('q').list()).map((j) => j.id), [id]);
    // Batches that share a key (each also with a key of its own), racing through both.
    const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).queue('m').addMany([
      { payload: i, uniqueKey: `own-${i}` }, { payload: i, uniqueKey: 'shared' },
    ])));
    exactlyOne(batches.map((batch) => batch[1]!));
    assert.equal((await a.queue('m').stats()).counts.ready, 21);
  });

  it('50 concurrent adds of one key through two brokers (remote clients, idempotency keys on every add) store exactly one job', async (t) => {
    const spools = await twoSpools(uniqueSchema('unique'));
    const brokers = await Promise.all(spools.map((s) => startBroker(s, { host: '127.0.0.1', port: 0 })));
    const clients = await Promise.all(brokers.map((b) => connect(b.wsUrl, { onError: () => {}, log: () => {} })));
    t.after(async () => {
      for (const c of clients) await c.close();
      for (const b of brokers) await b.close();
      for (const s of spools) await s.close();
    });
    const jobs = await Promise.all(Array.from({ length: 50 }, (_, i) => clients[i % 2]!.queue('q').add({ i }, { uniqueKey: 'k' })));
    const id = exactlyOne(jobs);
    const stored = await spools[0].queue('q').list();
    assert.deepEqual(stored.map((j) => j.id), [id]);
    for (const j of jobs) assert.deepEqual(j.payload, stored[0]!.payload, 'every answer carries the stored job\'s payload');
  });

  it("a rolled-back caller transaction leaves the key free; a committed one holds it (pg and postgres.js)", async (t) => {
    const spool = await Spool.open({ store: testPgUrl(), schema: uniqueSchema('unique'), maintenance: false, onError: () => {} });
    const client = new pg.Client({ connectionString: testPgUrl() });
    const sql = postgres(testPgUrl(), { max: 1, onnotice: () => {} });
    t.after(async () => { await client.end(); await sql.end(); await spool.close(); });
    await client.connect();
    const q = spool.queue('tx');

    await client.query('BEGIN');
    const inTx = await q.add(1, { uniqueKey: 'k', tx: client });
    assert.equal(inTx.duplicate, undefined);
    await client.query('ROLLBACK');
    const after = await q.add(2, { uniqueKey: 'k' });
    assert.equal(after.duplicate, undefined, 'the rolled-back add held nothing');
    assert.deepEqual((await q.list()).map((j) => j.id), [after.id]);

    // Inside a transaction, a duplicate of a committed job is told as such, and the transaction goes on.
    await client.query('BEGIN');
    const dup = await q.add(3, { uniqueKey: 'k', tx: client });
    assert.equal(dup.id, after.id);
    assert.equal(dup.duplicate, true);
    const other = await q.add(4, { uniqueKey: 'other', tx: client });
    await client.query('COMMIT');
    assert.deepEqual((await q.list()).map((j) => j.id).sort(), [after.id, other.id].sort());

    // postgres.js: a batch in a rolled-back transaction.
    await assert.rejects(sql.begin(async (tx) => {
      await q.addMany([{ payload: 5, uniqueKey: 'p1', tx }, { payload: 6, uniqueKey: 'p2', tx }]);
      throw new Error('roll back');
    }), /roll back/);
    const free = await q.addMany([{ payload: 7, uniqueKey: 'p1' }, { payload: 8, uniqueKey: 'p2' }]);
    assert.ok(free.every((j) => j.duplicate === undefined));
  });

  it('an add in a transaction that loses the race for a key to a concurrent one waits for it, then returns it as a duplicate', async (t) => {
    const spool = await Spool.open({ store: testPgUrl(), schema: uniqueSchema('unique'), maintenance: false, onError: () => {} });
    const first = new pg.Client({ connectionString: testPgUrl() });
    const second = new pg.Client({ connectionString: testPgUrl() });
    t.after(async () => { await first.end(); await second.end(); await spool.close(); });
    await Promise.all([first.connect(), second.connect()]);
    const q = spool.queue('race');
    await q.add(0); // the queue exists: neither transaction creates it
    await first.query('BEGIN');
    const held = await q.add(1, { uniqueKey: 'k', tx: first });
    await second.query('BEGIN');
    const pending = q.add(2, { uniqueKey: 'k', tx: second }); // waits on the first transaction's index entry
    await first.query('COMMIT');
    const dup = await pending;
    assert.equal(dup.id, held.id);
    assert.equal(dup.duplicate, true);
    const more = await q.add(3, { uniqueKey: 'k2', tx: second });
    await second.query('COMMIT');
    assert.equal(more.duplicate, undefined, 'the transaction survived the lost race');
    assert.equal((await q.stats()).counts.ready, 3);
  });
});
