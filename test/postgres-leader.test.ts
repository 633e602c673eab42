import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { startFixture } from './support/child.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

describe('leader election on PostgreSQL', () => {
  it('processes racing for leadership, with stalls past the lease and a SIGKILLed leader, never both act as leader', { timeout: 60_000 }, async (t) => {
    const schema = uniqueSchema('leader');
    const store = await openPostgresStore({ url: testPgUrl(), schema, notify: false });
    t.after(() => store.close());
    await store.query(`CREATE TABLE ${schema}.race_log (holder uuid NOT NULL, started float8 NOT NULL, ended float8 NOT NULL)`);

    const racers = Array.from({ length: 3 }, () => startFixture('pg-leader.ts', [testPgUrl(), schema, '5000']));
    t.after(() => racers.forEach((r) => r.child.kill('SIGKILL')));
    // Kill whoever leads at the 2 s mark.
    await new Promise((r) => setTimeout(r, 2000));
    const [current] = await store.query(`SELECT holder FROM ${schema}.race_log ORDER BY ended DESC LIMIT 1`);
    const before = new Set((await store.query(`SELECT DISTINCT holder FROM ${schema}.race_log`)).map((r) => r.holder));
    racers[0]!.child.kill('SIGKILL');
    await Promise.all(racers.map((r) => r.exited));

    const log = (await store.query(`SELECT holder, started, ended FROM ${schema}.race_log ORDER BY started`)) as { holder: string; started: number; ended: number }[];
    assert.ok(log.length > 20, `duties ran (${log.length})`);
    const holders = new Set(log.map((l) => l.holder));
    assert.ok(holders.size >= 2, `leadership changed hands (${holders.size} leaders)`);
    for (let i = 0; i < log.length; i++) {
      for (let j = i + 1; j < log.length && log[j]!.started < log[i]!.ended; j++) {
        assert.equal(log[j]!.holder, log[i]!.holder, `two leaders acted at once: ${JSON.stringify(log[i])} and ${JSON.stringify(log[j])}`);
      }
    }
    assert.ok(current && before.size >= 1);
  });
});
