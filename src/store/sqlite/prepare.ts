import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * Prepares `sql` on `db` so that its plan is made once. SQLite (3.53, as Node 24 bundles it) reads
 * the value bound to a bare `LIMIT ?` or `OFFSET ?` while planning, and so marks the statement to
 * be parsed and planned again whenever that parameter is bound — which is every run. `LIMIT +?` is
 * the same limit to the statement but an expression to the planner, which plans without its value:
 * the claim, the sweeps and the paged reads then run as prepared (their plans are the same either
 * way; sqlite-driver.test.ts checks that no statement keeps a bare one). A parameter compared with
 * a partial index's constant (`state = ?` beside jobs_ready's `WHERE state = 'ready'`) is planned
 * again per run too: the claim and the sweeps write their states as constants.
 */
export function prepare(db: DatabaseSync, sql: string): StatementSync {
  return db.prepare(plannedOnce(sql));
}

/** `sql` with each `LIMIT ?` and `OFFSET ?` (numbered or not) written `LIMIT +?`, `OFFSET +?`. */
export function plannedOnce(sql: string): string {
  return sql.replace(/\b(LIMIT|OFFSET)\s+(\?\d*)/gi, '$1 +$2');
}
