import { QueueFullError } from '../../core/errors.ts';
import type { QueueBound } from '../../core/queue-config.ts';
import type { InsertExisting, InsertReport, ItemOutcome, NewJobRow } from '../store.ts';
import type { PgStatements } from './statements.ts';

/**
 * Bounded queues on PostgreSQL. Several brokers insert into one schema at once, so counting and
 * inserting must not interleave: every insert into a bounded queue takes a transaction-scoped
 * advisory lock on the queue first (lock class BOUND_LOCK, key the schema-qualified name), then
 * counts the queue's waiting jobs exactly (queue_counts plus the trigger-written deltas, which
 * include every bounded insert committed before the lock was granted), then inserts. Inserts into
 * one bounded queue are serialized; other queues and unbounded queues take no lock and pay nothing.
 */

/** Runs a statement in the transaction the bounded insert runs in. */
export type Run = (text: string, params: unknown[]) => Promise<readonly Record<string, unknown>[]>;

/** Inserts `rows` (their own statement: plain or keyed); returns per row the id its key named, or null. */
export type InsertRows = (rows: readonly NewJobRow[]) => Promise<void | InsertExisting>;

/** The bounded queues among `rows`, each with its bound, in name order (the order their locks are taken: no deadlock). */
export function boundedQueues(rows: readonly NewJobRow[]): [string, QueueBound][] {
  const out = new Map<string, QueueBound>();
  for (const r of rows) if (r.bound && !out.has(r.queue)) out.set(r.queue, r.bound);
  return [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export class PgBounds {
  readonly #q: PgStatements;
  readonly #schema: string;

  constructor(q: PgStatements, schema: string) {
    this.#q = q;
    this.#schema = schema;
  }

  /** Takes the queue's lock (held to the end of the transaction of `run`). */
  async lock(run: Run, queue: string): Promise<void> {
    await run(this.#q.boundLock, [`${this.#schema}.${queue}`]);
  }

  /** Jobs of `queue` waiting to start, as the transaction of `run` sees them. */
  async waiting(run: Run, queue: string): Promise<number> {
    const [row] = await run(this.#q.boundWaiting, [queue]);
    return Number(row?.n ?? 0);
  }

  /** Drops the `n` oldest waiting jobs of `queue` at `now`; how many it dropped. */
  async drop(run: Run, queue: string, n: number, now: number): Promise<number> {
    return n <= 0 ? 0 : (await run(this.#q.boundDrop, [queue, n, now])).length;
  }

  /**
   * An atomic insert (jobsInsertMany) in the transaction of `run`: locks every bounded queue of the
   * rows, inserts them all, then counts each: over its bound, `reject` throws QueueFullError (the
   * caller rolls the transaction back: nothing is stored) and `drop-oldest` drops the excess.
   * With `precheck` (a caller's own transaction, which might commit after the error), the counts are
   * checked before anything is inserted, counting every row (an idempotent replay too).
   */
  async insertMany(run: Run, rows: readonly NewJobRow[], insert: InsertRows, report: InsertReport | undefined, precheck = false): Promise<void | InsertExisting> {
    const bounded = boundedQueues(rows);
    for (const [queue] of bounded) await this.lock(run, queue);
    if (precheck) {
      for (const [queue, bound] of bounded) {
        if (bound.overflow !== 'reject') continue;
        const adding = rows.filter((r) => r.queue === queue).length;
        if ((await this.waiting(run, queue)) + adding > bound.maxLength) throw new QueueFullError(queue, bound.maxLength);
      }
    }
    const existing = await insert(rows);
    for (const [queue, bound] of bounded) {
      const over = (await this.waiting(run, queue)) - bound.maxLength;
      if (over <= 0) continue;
      if (bound.overflow === 'reject') throw new QueueFullError(queue, bound.maxLength);
      const now = rows.find((r) => r.queue === queue)!.createdAt;
      const dropped = await this.drop(run, queue, over, now);
      if (dropped > 0 && report) report.dropped[queue] = (report.dropped[queue] ?? 0) + dropped;
    }
    return existing;
  }

  /**
   * Independent inserts (jobsInsertEach) of one bounded queue, in the transaction of `run`, each
   * row in a savepoint (`alone`) so a refused one leaves the others: in order, each that fits
   * is stored; with `reject`, one that does not is refused with QueueFullError. With
   * `drop-oldest` all are stored and the excess dropped once at the end, its count given to the
   * last stored row's outcome.
   */
  async insertEach(run: Run, queue: string, bound: QueueBound, rows: readonly NewJobRow[], insert: InsertRows,
    alone: <T>(fn: () => Promise<T>) => Promise<T>, refused: (row: NewJobRow, err: unknown) => Error): Promise<ItemOutcome[]> {
    await this.lock(run, queue);
    let waiting = await this.waiting(run, queue);
    const outcomes: ItemOutcome[] = [];
    let lastStored = -1;
    for (const [i, r] of rows.entries()) {
      // Without a key the row is stored for sure: refused before any write. With one, it may be a
      // replay or a duplicate (nothing stored, nothing counted), which only the insert tells.
      if (bound.overflow === 'reject' && !r.idempotency && !r.uniqueKey && waiting >= bound.maxLength) {
        outcomes.push({ ok: false, error: new QueueFullError(queue, bound.maxLength) });
        continue;
      }
      try {
        const outcome = await alone(async (): Promise<ItemOutcome> => {
          const named = (await insert([r]))?.[0] ?? null;
          if (named !== null) return typeof named === 'string' ? { ok: true, existing: named } : { ok: true, duplicateOf: named.duplicateOf };
          if (bound.overflow === 'reject' && waiting + 1 > bound.maxLength) throw new QueueFullError(queue, bound.maxLength);
          return { ok: true };
        });
        if (outcome.ok && outcome.existing === undefined && outcome.duplicateOf === undefined) {
          waiting++;
          lastStored = i;
        }
        outcomes.push(outcome);
      } catch (err) {
        outcomes.push({ ok: false, error: err instanceof QueueFullError ? err : refused(r, err) });
      }
    }
    if (bound.overflow === 'drop-oldest' && lastStored >= 0) {
      const dropped = await this.drop(run, queue, waiting - bound.maxLength, rows[lastStored]!.createdAt);
      if (dropped > 0) outcomes[lastStored] = { ok: true, dropped };
    }
    return outcomes;
  }
}
