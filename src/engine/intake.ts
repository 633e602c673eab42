import type { Clock } from '../core/clock.ts';
import type { Job } from '../core/job.ts';
import { Batcher } from '../core/batcher.ts';
import type { ItemOutcome, NewJobRow, Store } from '../store/store.ts';
import { applyQueueDefaults, buildJobRows, callerTransaction } from './inputs.ts';
import type { AddItem, EngineSettings } from './options.ts';
import type { QueueSettings } from './queue-settings.ts';
import type { Telemetry } from './telemetry.ts';

export interface IntakeDeps {
  store: Store;
  clock: Clock;
  settings: EngineSettings;
  queues: QueueSettings;
  telemetry: Telemetry;
  /** A store call succeeded. */
  markHealthy(): void;
  /** Jobs became ready in `queue`. */
  wake(queue: string): void;
  /** A job was scheduled for `at`. */
  noteDue(at: number): void;
}

/**
 * How adds reach the store: one add alone is batched with the others of its tick, a batch is
 * one insert, and a caller's transaction writes them in it; consumers are woken after.
 */
export class Intake {
  readonly #d: IntakeDeps;
  // Adds made in one tick become one store call (and, on SQLite, share one transaction);
  // each keeps its own outcome, so one add the database refuses does not fail the others.
  readonly #inserts: Batcher<NewJobRow, ItemOutcome>;

  constructor(deps: IntakeDeps) {
    this.#d = deps;
    this.#inserts = new Batcher(async (rows) => {
      const outcomes = await deps.store.jobsInsertEach(rows);
      deps.markHealthy();
      this.#afterInsert(outcomes.every((o) => o.ok) ? rows : rows.filter((_, i) => outcomes[i]!.ok));
      return outcomes;
    }, 10_000);
  }

  /** Stores the jobs of a checked queue name and counts them; returns them. All are stored, or none. */
  async addMany<P>(queue: string, items: readonly AddItem<P>[]): Promise<Job<P>[]> {
    const { store, clock, settings, queues } = this.#d;
    const { rows, jobs } = buildJobRows<P>(queue, items, clock.now(), settings);
    // Only valid input reaches here. A new queue's row is written by the insert, in its transaction.
    applyQueueDefaults(rows, jobs, (await queues.state(queue)).config);
    const tx = callerTransaction(items, store);
    // Written in the caller's transaction; consumers wake on its commit (NOTIFY) or by polling.
    if (tx !== undefined) await store.jobsInsertManyInTransaction!(tx, rows);
    else if (rows.length === 1) {
      const outcome = await this.#inserts.push(rows[0]!);
      if (!outcome.ok) throw outcome.error;
    }
    else if (rows.length > 0) {
      await store.jobsInsertMany(rows);
      this.#afterInsert(rows);
    }
    this.#d.telemetry.added(queue, rows.length);
    return jobs;
  }

  #afterInsert(rows: readonly NewJobRow[]): void {
    let lastQueue = '';
    for (const r of rows) {
      if (r.state === 'scheduled') this.#d.noteDue(r.runAt);
      else if (r.queue !== lastQueue) {
        lastQueue = r.queue;
        this.#d.wake(r.queue);
      }
    }
  }
}
