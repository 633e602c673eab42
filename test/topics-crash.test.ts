import { scratchDir } from './support/scratch.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { startFixture } from './support/child.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const QUEUES = ['audit', 'billing', 'eu'];
const TOPIC = 'orders.eu.created';
const ROUNDS = 8;

/** Every job's payload `seq` in `queue`, page by page. */
async function seqs(spool: Spool, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (let after: string | undefined; ;) {
    const page = await spool.listPage(queue, { limit: 1000, ...(after ? { after } : {}) });
    for (const j of page.jobs) out.push((j.payload as { seq: string }).seq);
    if (page.next === null) return out;
    after = page.next;
  }
}

/**
 * A publisher killed mid-stream, round after round: each bound queue holds exactly one copy of
 * every acknowledged publish, and a publish is in every bound queue or in none (an unacknowledged
 * one may have committed, all of it, just before the kill).
 */
async function killedPublisher(store: string, schema: string): Promise<void> {
  const spool = await Spool.open({ store, ...(schema ? { schema } : {}), maintenance: false });
  /** On PostgreSQL: the store, to see the publisher's connections (named `pgApp`). */
  const pg = spool.store instanceof PostgresStore ? spool.store : null;
  const pgApp = `publisher_${schema}`;
  try {
    // Three queues, one of them bound by two matching patterns (still one copy), and a binding that does not match.
    await spool.bind('orders.#', 'audit');
    await spool.bind('orders.*.created', 'billing');
    await spool.bind('#.created', 'billing');
    await spool.bind('orders.eu.#', 'eu');
    await spool.bind('orders.us.#', 'us');
    const acknowledged: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { child, lines, exited, stderr } = startFixture('topic-publisher.ts', [pg ? `${store}${store.includes('?') ? '&' : '?'}application_name=${pgApp}` : store, schema, TOPIC, String(round)]);
      await waitFor(() => lines.length > 20 || child.exitCode !== null, 30_000, 'the publisher to start publishing');
      assert.equal(child.exitCode, null, `the publisher runs: ${stderr()}`);
      if (pg) assert.ok(Number((await pg.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1`, [pgApp]))[0]!.n) > 0, 'the publisher\'s connections carry its name');
      await new Promise((r) => setTimeout(r, Math.random() * 100)); // a moment of the stream to kill in
      child.kill('SIGKILL');
      await exited;
      assert.equal(child.signalCode, 'SIGKILL');
      acknowledged.push(...lines);

      // A publish the child sent just before the kill may still commit: PostgreSQL ends the
      // statement of a connection whose client is gone. Its backends end after that: wait for it.
      if (pg) await waitFor(async () => Number((await pg.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1`, [pgApp]))[0]!.n) === 0, 30_000, 'the killed publisher\'s connections to end');
      const copies = await Promise.all(QUEUES.map((q) => seqs(spool, q)));
      const all = new Set(copies.flat());
      for (const [i, queue] of QUEUES.entries()) {
        const seen = new Map<string, number>();
        for (const s of copies[i]!) seen.set(s, (seen.get(s) ?? 0) + 1);
        assert.deepEqual([...seen].filter(([, n]) => n > 1), [], `round ${round}: ${queue} holds a publish twice`);
        assert.deepEqual(acknowledged.filter((s) => !seen.has(s)), [], `round ${round}: ${queue} lacks acknowledged publishes`);
        assert.deepEqual([...all].filter((s) => !seen.has(s)), [], `round ${round}: a publish is in some bound queues and not in ${queue}`);
      }
      assert.equal(await spool.stats('us').then(() => 'exists', () => 'none'), 'none', 'the queue whose binding does not match got nothing');
    }
    assert.ok(acknowledged.length > ROUNDS * 20, `the publishers got going (${acknowledged.length} publishes)`);
    assert.equal((await spool.bindings()).unrouted, 0);
  } finally {
    await spool.close();
  }
}

describe('topics: a publisher killed mid-stream (real processes, SIGKILL)', () => {
  it('SQLite file: every bound queue holds exactly one copy per acknowledged publish; each publish all or nothing', { timeout: 180_000 }, () =>
    killedPublisher(join(scratchDir('spool-topics-crash-'), 'topics.db'), ''));

  it('PostgreSQL: every bound queue holds exactly one copy per acknowledged publish; each publish all or nothing', { timeout: 180_000 }, () =>
    killedPublisher(testPgUrl(), uniqueSchema('topics_crash')));
});
