import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * Prepares `sql` on `db` so that its plan is made once. SQLite (3.47 on) reads the value bound to
 * a bare `LIMIT ?` while planning, and so marks the statement to be parsed and planned again every
 * time that parameter is bound — on every run, as every run binds it (so does `OFFSET ?`). `LIMIT +?` is the same limit
 * to the statement but an expression to the planner, which it plans without reading: the claim,
 * the expiry sweep and every paged read run as prepared. (A parameter compared with a partial
 * index's constant, such as `state = ?` beside an index `WHERE state = 'ready'`, does the same:
 * statements write their states as constants.)
 */
export function prepare(db: DatabaseSync, sql: string): StatementSync {
  return db.prepare(plannedOnce(sql));
}

/** `sql` with each `LIMIT ?` and `OFFSET ?` (numbered or not) written `LIMIT +?`, `OFFSET +?`. */
export function plannedOnce(sql: string): string {
  return sql.replace(/\b(LIMIT|OFFSET)\s+(\?\d*)/gi, '$1 +$2');
}
