import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { JobState } from '../../core/job.ts';

/**
 * The job counts per queue and state (table `queue_counts`), kept by the SQLite store itself so
 * stats never count the jobs table. Each write notes how it moved jobs between states; the
 * group commit adds the sums to `queue_counts` just before it commits, in the same transaction,
 * one upsert per (queue, state) the group touched. A trigger per row would do the same work at
 * about twice the cost of the insert it counts (bench/count-triggers.ts); this costs a few percent.
 * A write whose savepoint is rolled back drops what it noted, as does a group that fails.
 *
 * Every statement of the store that changes a job's state or deletes a job notes it here:
 * `src/store/queue-counts.test.ts` compares the counts with a fresh count after random sequences
 * of every such write.
 */
export class CountLedger {
  /** What the running write noted: key `queue\nstate` (a queue name has no newline). */
  readonly #op = new Map<string, number>();
  /** Queues the running write deleted entirely: their rows go, and nothing noted for them is added. */
  readonly #forgotten = new Set<string>();
  /** What the writes kept so far in this group noted. */
  readonly #group = new Map<string, number>();
  readonly #upsert: StatementSync;

  constructor(db: DatabaseSync) {
    this.#upsert = db.prepare(`INSERT INTO queue_counts (queue, state, n) VALUES (?, ?, ?)
      ON CONFLICT (queue, state) DO UPDATE SET n = n + excluded.n`);
  }

  /** `n` jobs of `queue` moved from `from` to `to` (null: inserted, or deleted). */
  move(queue: string, from: JobState | null, to: JobState | null, n = 1): void {
    if (from === to || n === 0) return;
    if (from !== null) this.#add(`${queue}\n${from}`, -n);
    if (to !== null) this.#add(`${queue}\n${to}`, n);
  }

  /** What the group's writes so far, the running one included, noted for (`queue`, `state`) and not yet written. */
  noted(queue: string, state: JobState): number {
    const key = `${queue}\n${state}`;
    return (this.#group.get(key) ?? 0) + (this.#op.get(key) ?? 0);
  }

  /** The running write deleted every job of `queue` and its count rows (`deleteRows` does that now). */
  forgetQueue(queue: string, deleteRows: () => void): void {
    deleteRows();
    for (const key of this.#op.keys()) if (key.startsWith(`${queue}\n`)) this.#op.delete(key);
    this.#forgotten.add(queue);
  }

  /** The running write committed to its savepoint: what it noted joins the group. */
  opKept(): void {
    for (const queue of this.#forgotten) for (const key of this.#group.keys()) if (key.startsWith(`${queue}\n`)) this.#group.delete(key);
    for (const [key, d] of this.#op) this.#group.set(key, (this.#group.get(key) ?? 0) + d);
    this.#op.clear();
    this.#forgotten.clear();
  }

  /** The running write was rolled back. */
  opDropped(): void {
    this.#op.clear();
    this.#forgotten.clear();
  }

  /** Adds the group's sums to `queue_counts`; called inside the transaction, just before COMMIT. */
  write(): void {
    for (const [key, d] of this.#group) {
      if (d === 0) continue;
      const at = key.indexOf('\n');
      this.#upsert.run(key.slice(0, at), key.slice(at + 1), d);
    }
    this.#group.clear();
  }

  /** The group failed: nothing of it is kept. */
  groupDropped(): void {
    this.#group.clear();
    this.opDropped();
  }

  #add(key: string, d: number): void {
    this.#op.set(key, (this.#op.get(key) ?? 0) + d);
  }
}
