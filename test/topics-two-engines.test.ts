/**
 * Routing changes made by one engine and publishes made by another, on one store (a SQLite file,
 * PostgreSQL), concurrently: a publish started after an unbind (or a bind) has returned never
 * routes by the bindings it replaced, though the publishing engine holds them compiled.
 */
import { scratchDir } from './support/scratch.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const ROUNDS = 30;

async function twoEngines(store: string, schema: string): Promise<void> {
  const open = () => Spool.open({ store, ...(schema ? { schema } : {}), maintenance: false, onError: () => {} });
  const publisher = await open();
  const operator = await open();
  try {
    await operator.bind('orders.#', 'always');
    let stop = false;
    /** The routing as the operator last changed it, and how many changes so far (odd while one is under way). */
    let phase: 'bound' | 'unbound' = 'unbound';
    let changes = 0;
    const wrong: string[] = [];
    let published = 0;
    /** Publishes checked against the routing they started under (no change came while they ran). */
    let checked = 0;
    const lane = async () => {
      while (!stop) {
        const [expected, at] = [phase, changes];
        const out = await publisher.publish('orders.eu.created', { expected });
        published++;
        // Started after a change had returned (an even count: none under way), and no other change
        // came before it was written: it must have been routed by that change's bindings. One that
        // started while a change was under way may see either routing, even if it ends before the
        // change returns (the change commits, then reads the routing back).
        if (at % 2 !== 0 || changes !== at) continue;
        checked++;
        if (out.jobs.some((j) => j.queue === 'extra') !== (expected === 'bound')) {
          wrong.push(`a publish started with extra ${expected} was routed ${expected === 'bound' ? 'without' : 'to'} it`);
        }
      }
    };
    const lanes = Array.from({ length: 8 }, lane);
    for (let round = 0; round < ROUNDS; round++) {
      changes++; // the bind is under way
      await operator.bind('orders.*.created', 'extra');
      [phase, changes] = ['bound', changes + 1];
      const before = checked;
      while (checked < before + 8) await new Promise((r) => setImmediate(r)); // publishes started and written under this routing
      // Unbind, then publish once from the publisher: nothing concurrent changes the routing now.
      changes++; // the unbind is under way: publishes started from here may see either routing
      await operator.unbind('orders.*.created', 'extra');
      [phase, changes] = ['unbound', changes + 1];
      const after = await publisher.publish('orders.eu.created', { check: round });
      assert.deepEqual(after.jobs.map((j) => j.queue), ['always'], `round ${round}: a publish after the unbind routed by the old bindings`);
    }
    stop = true;
    await Promise.all(lanes);
    assert.deepEqual(wrong, []);
    assert.ok(checked >= ROUNDS * 8, `${checked} publishes checked`);
    const always = (await publisher.stats('always'))[0]!.counts.ready;
    assert.equal(always, published + ROUNDS, 'every publish reached the queue bound throughout, once');
  } finally {
    await publisher.close();
    await operator.close();
  }
}

describe('topics: one engine binds and unbinds while another publishes (one store)', () => {
  it('SQLite file: no publish routes by bindings replaced before it started', { timeout: 120_000 }, () =>
    twoEngines(join(scratchDir('spool-topics-two-'), 'two.db'), ''));

  it('PostgreSQL: no publish routes by bindings replaced before it started', { timeout: 120_000 }, () =>
    twoEngines(testPgUrl(), uniqueSchema('topics_two')));
});
