import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { QueueFullError } from '../../core/errors.ts';
import { DROPPED_ERROR } from '../../core/job.ts';
import type { QueueBound } from '../../core/queue-config.ts';
import type { CountLedger } from './count-ledger.ts';
import { prepare } from './prepare.ts';

/**
 * Bounded queues on SQLite. The store is the only writer while its group runs (BEGIN IMMEDIATE),
 * so a queue's count of jobs waiting to start is exact inside it: the row of `queue_counts` plus
 * what the group's writes noted and has not written yet (count-ledger.ts). An unbounded row never
 * comes here: it costs nothing more.
 */
export class SqliteBounds {
  readonly #db: DatabaseSync;
  readonly #counts: CountLedger;
  readonly #waiting: StatementSync;
  readonly #oldest: StatementSync;
  readonly #drop: StatementSync;

  constructor(db: DatabaseSync, counts: CountLedger) {
    this.#db = db;
    this.#counts = counts;
    this.#waiting = db.prepare(`SELECT coalesce(sum(n), 0) AS n FROM queue_counts WHERE queue = ? AND state IN ('ready', 'scheduled')`);
    // The oldest waiting jobs by id (the order of their adds): one seek of jobs_queue_state per state.
    this.#oldest = prepare(db, `SELECT id, state FROM (
        SELECT * FROM (SELECT id, state FROM jobs WHERE queue = ?1 AND state = 'ready' ORDER BY id LIMIT ?2)
        UNION ALL
        SELECT * FROM (SELECT id, state FROM jobs WHERE queue = ?1 AND state = 'scheduled' ORDER BY id LIMIT ?2))
      ORDER BY id LIMIT ?2`);
    this.#drop = db.prepare(`UPDATE jobs SET state = 'dead', dead_reason = 'dropped', last_error = '${DROPPED_ERROR}', finished_at = ?1, updated_at = ?1
      WHERE id IN (SELECT value FROM json_each(?2)) AND state IN ('ready', 'scheduled')`);
  }

  /** Jobs of `queue` waiting to start (ready and scheduled) as the running transaction sees them, its own writes included. */
  waiting(queue: string): number {
    const { n } = this.#waiting.get(queue) as { n: number };
    return Number(n) + this.#counts.noted(queue, 'ready') + this.#counts.noted(queue, 'scheduled');
  }

  /**
   * Called after rows of a bounded queue were stored: over the bound, `reject` throws
   * QueueFullError (the caller's savepoint undoes the insert) and `drop-oldest` drops the oldest
   * waiting jobs until the queue is at its bound. Returns how many it dropped.
   */
  settle(queue: string, bound: QueueBound, now: number): number {
    const over = this.waiting(queue) - bound.maxLength;
    if (over <= 0) return 0;
    if (bound.overflow === 'reject') throw new QueueFullError(queue, bound.maxLength);
    const victims = this.#oldest.all(queue, over) as { id: string; state: 'ready' | 'scheduled' }[];
    this.#drop.run(now, JSON.stringify(victims.map((v) => v.id)));
    const ready = victims.filter((v) => v.state === 'ready').length;
    this.#counts.move(queue, 'ready', 'dead', ready);
    this.#counts.move(queue, 'scheduled', 'dead', victims.length - ready);
    return victims.length;
  }

  /** Runs `fn` in a savepoint of its own: a throw (QueueFullError) undoes only what `fn` wrote. */
  alone<T>(fn: () => T): T {
    this.#db.exec('SAVEPOINT bounded');
    try {
      const value = fn();
      this.#db.exec('RELEASE bounded');
      return value;
    } catch (err) {
      if (this.#db.isTransaction) {
        this.#db.exec('ROLLBACK TO bounded');
        this.#db.exec('RELEASE bounded');
      }
      throw err;
    }
  }
}
