// A transaction PostgreSQL aborts to break a deadlock is run again, so both sides of the
// deadlock complete (a broker starting while another's upkeep locks the same rows in another
// order once failed to open with `deadlock detected`).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { PgPool } from './pg-client.ts';

it('runs again a transaction aborted to break a deadlock: both sides of it commit', async () => {
  const pool = new PgPool(testPgUrl(), 4);
  const s = uniqueSchema();
  try {
    await pool.q(`CREATE SCHEMA ${s}`);
    await pool.q(`CREATE TABLE ${s}.t (id int PRIMARY KEY, n int NOT NULL)`);
    await pool.q(`INSERT INTO ${s}.t VALUES (1, 0), (2, 0)`);
    // Each side locks its first row, waits until the other holds its own, then wants the other's:
    // a deadlock, which PostgreSQL breaks by aborting one side (after deadlock_timeout, 1 s).
    const held = { 1: Promise.withResolvers<void>(), 2: Promise.withResolvers<void>() };
    let tries = 0;
    const side = (mine: 1 | 2, theirs: 1 | 2) => pool.transaction(async (tx) => {
      tries++;
      await tx.q(`UPDATE ${s}.t SET n = n + 1 WHERE id = $1`, [mine]);
      held[mine].resolve();
      await held[theirs].promise;
      await tx.q(`UPDATE ${s}.t SET n = n + 1 WHERE id = $1`, [theirs]);
    });
    await Promise.all([side(1, 2), side(2, 1)]);
    assert.equal(tries, 3, 'one side was aborted once and run again');
    const rows = await pool.q(`SELECT id, n FROM ${s}.t ORDER BY id`);
    assert.deepEqual(rows.map((r) => [r.id, r.n]), [[1, 2], [2, 2]], 'both transactions committed, each once');
  } finally {
    await pool.q(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
    await pool.end();
  }
});

it('a pool with generic plans plans each prepared statement once per connection, and keeps the URL\'s own options', async () => {
  const withOptions = new URL(testPgUrl());
  withOptions.searchParams.set('options', '-c work_mem=8MB');
  const generic = new PgPool(withOptions.href, 1, { genericPlans: true });
  const plain = new PgPool(testPgUrl(), 1);
  try {
    const setting = async (pool: PgPool, name: string) => (await pool.q(`SELECT current_setting($1) AS v`, [name]))[0]!.v;
    assert.equal(await setting(generic, 'plan_cache_mode'), 'force_generic_plan');
    assert.equal(await setting(generic, 'work_mem'), '8MB', "the URL's options still apply");
    assert.equal(await setting(plain, 'plan_cache_mode'), 'auto', 'other pools keep the server default');
    // The statement the setting is for: PostgreSQL's default would plan the first five calls afresh.
    await generic.transaction(async (tx) => {
      for (let i = 0; i < 6; i++) await tx.q(`SELECT count(*) AS n FROM unnest($1::int[]) AS t(x) WHERE x > $2`, [[1, 2, 3], i]);
      const [stats] = await tx.q(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%unnest($1::int[])%'`);
      assert.deepEqual([Number(stats!.generic_plans), Number(stats!.custom_plans)], [6, 0]);
    });
  } finally {
    await generic.end();
    await plain.end();
  }
});
