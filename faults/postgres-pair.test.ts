// The replicated pair of the PostgreSQL failover fault: two failovers in a row (a → b, then
// b → a after an online rebuild of a), no committed row lost at either, the rebuilt node a
// synchronous standby before the second, and the markers faults/recovery.ts reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type pg from 'pg';
import { connectClient } from '../src/store/postgres/pg-client.ts';
import { queryOnce } from '../test/support/pg-replicated.ts';
import { PostgresPair } from './postgres-pair.ts';
import { History } from './processes.ts';
import { recoveryTimes } from './recovery.ts';

describe('PostgresPair', () => {
  it('fails over again after an online rebuild, every committed row on the promoted node each time', { timeout: 120_000 }, async (t) => {
    const history = new History();
    const pair = await PostgresPair.create(history);
    t.after(() => pair.destroy());
    await pair.start();
    const [portA, portB] = [...pair.url.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));

    const committed: number[] = [];
    let next = 0;
    /** Inserts `n` rows through the multi-host URL, one commit each; records those acknowledged. */
    const write = async (n: number, expectPort: number) => {
      const client: pg.Client = await connectClient(pair.url, { connectionTimeoutMillis: 2000 });
      try {
        assert.equal((await client.query('SELECT inet_server_port() AS p')).rows[0].p, expectPort, 'the multi-host URL reaches the primary');
        await client.query('CREATE TABLE IF NOT EXISTS pair_rows (id int PRIMARY KEY)');
        for (let i = 0; i < n; i++) {
          const id = next++;
          await client.query('INSERT INTO pair_rows (id) VALUES ($1)', [id]);
          committed.push(id);
        }
      } finally {
        await client.end();
      }
    };
    const onPrimary = async () => (await queryOnce(pair.primaryUrl, 'SELECT id FROM pair_rows ORDER BY id')).map((r) => r.id as number);
    const replication = () => queryOnce(pair.primaryUrl, 'SELECT application_name, state, sync_state FROM pg_stat_replication');
    const assertSyncStandby = async (name: string) => {
      assert.deepEqual(await replication(), [{ application_name: name, state: 'streaming', sync_state: 'sync' }]);
    };

    await write(200, portA!);
    await assertSyncStandby('spool_b');
    const first = await pair.failover();
    assert.deepEqual(await onPrimary(), committed, 'every row committed on a is on b');
    assert.equal(pair.standbyUrl, null);
    // Until the rebuild, the new primary waits for nobody: it takes writes, and has no standby.
    await write(50, portB!);
    assert.deepEqual(await replication(), []);

    // Online: writes go on while a is rebuilt from b.
    const rebuildStart = Date.now();
    const during = write(300, portB!);
    await pair.rebuildStandby();
    const rebuildMs = Date.now() - rebuildStart;
    await during;
    await write(100, portB!);
    await assertSyncStandby('spool_a');
    assert.deepEqual((await queryOnce(pair.standbyUrl!, 'SELECT pg_is_in_recovery() AS r'))[0], { r: true });

    const second = await pair.failover();
    assert.deepEqual(await onPrimary(), committed, 'every row committed on b (before, during and after the rebuild) is on a');
    await write(10, portA!);
    t.diagnostic(`failover: killed → writable ${first.promotedAt - first.killedAt} ms, then ${second.promotedAt - second.killedAt} ms; online rebuild ${rebuildMs} ms`);

    // The kill of each primary is followed by the ready of the next: the "back after restart" figure starts at the promotion.
    const kills = recoveryTimes(history.events).filter((r) => r.action === 'kill');
    assert.deepEqual(kills.map((k) => [k.target, k.at, k.readyAt]), [['postgres#1', first.killedAt, first.promotedAt], ['postgres#2', second.killedAt, second.promotedAt]]);
    assert.equal(pair.proc, 'postgres#3');
  });
});
