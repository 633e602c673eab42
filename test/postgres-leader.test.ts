import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../src/store/conformance/worker.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { startFixture } from './support/child.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

/** Generous: the racers start and act on their own schedule on a loaded machine; every wait is for a state. */
const WAIT_MS = 120_000;

describe('leader election on PostgreSQL', () => {
  it('processes racing for leadership, with stalls past the lease and a SIGKILLed leader, never both act as leader', { timeout: 4 * WAIT_MS }, async (t) => {
    const schema = uniqueSchema('leader');
    const store = await openPostgresStore({ url: testPgUrl(), schema, notify: false });
    t.after(() => store.close());
    await store.query(`CREATE TABLE ${schema}.race_log (holder uuid NOT NULL, started float8 NOT NULL, ended float8 NOT NULL)`);
    await store.query(`CREATE TABLE ${schema}.race_stop (at float8)`);
    const count = async (where = 'true', params: unknown[] = []) => Number((await store.query(`SELECT count(*) AS n FROM ${schema}.race_log WHERE ${where}`, params))[0]!.n);

    const racers = Array.from({ length: 3 }, () => startFixture('pg-leader.ts', [testPgUrl(), schema]));
    t.after(() => racers.forEach((r) => r.child.kill('SIGKILL')));
    const holderOf = (r: (typeof racers)[number]) => r.lines.find((l) => l.startsWith('holder '))?.slice('holder '.length);
    await waitFor(() => racers.every((r) => holderOf(r) !== undefined), WAIT_MS, 'every racer to contend');

    // Kill the leader once leadership has been used a while, then wait until another racer leads.
    await waitFor(async () => (await count()) >= 15, WAIT_MS, 'duties run by a leader');
    const [latest] = await store.query(`SELECT holder FROM ${schema}.race_log ORDER BY ended DESC LIMIT 1`);
    const killed = racers.find((r) => holderOf(r) === latest!.holder)!;
    assert.ok(killed, `the leader ${latest!.holder} is one of the racers`);
    killed.child.kill('SIGKILL');
    await killed.exited;
    await waitFor(async () => (await count('holder <> $1', [latest!.holder])) >= 15, WAIT_MS, 'another racer to lead after the kill');
    await store.query(`INSERT INTO ${schema}.race_stop VALUES (1)`);
    await Promise.all(racers.map((r) => r.exited));

    const log = (await store.query(`SELECT holder, started, ended FROM ${schema}.race_log ORDER BY started`)) as { holder: string; started: number; ended: number }[];
    const holders = new Set(log.map((l) => l.holder));
    assert.ok(holders.size >= 2, `leadership changed hands (${holders.size} leaders)`);
    for (let i = 0; i < log.length; i++) {
      for (let j = i + 1; j < log.length && log[j]!.started < log[i]!.ended; j++) {
        assert.equal(log[j]!.holder, log[i]!.holder, `two leaders acted at once: ${JSON.stringify(log[i])} and ${JSON.stringify(log[j])}`);
      }
    }
  });
});
