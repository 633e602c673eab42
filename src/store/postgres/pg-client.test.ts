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
