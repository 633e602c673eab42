import type { Clock } from '../core/clock.ts';
import type { Job } from '../core/job.ts';
import { Batcher } from '../core/batcher.ts';
import { JobNotFoundError, QueueFullError } from '../core/errors.ts';
import { queueBound } from '../core/queue-config.ts';
import type { InsertExisting, InsertReport, ItemOutcome, NewJobRow, Store } from '../store/store.ts';
import { applyQueueDefaults, buildJobRows, callerTransaction } from './inputs.ts';
import type { AddItem, EngineSettings } from './options.ts';
import type { QueueSettings } from './queue-settings.ts';
import type { Room } from './room.ts';
import type { HandOff } from './hand-off.ts';
import type { Telemetry } from './telemetry.ts';

export interface IntakeDeps {
  store: Store;
  clock: Clock;
  settings: EngineSettings;
  queues: QueueSettings;
  telemetry: Telemetry;
  /** Where adds to a full bounded queue wait for room. */
  room: Room;
  /** A store call succeeded. */
  markHealthy(): void;
  /** Jobs became ready in `queue`. */
  wake(queue: string): void;
  /** A job was scheduled for `at`. */
  noteDue(at: number): void;
  /**
   * Given when the store wakes other processes on an insert (PostgreSQL's NOTIFY): whether this
   * process's consumers of `queue` take the ready jobs `ids` themselves, so the insert need not
   * wake the others; then `written` once their add has ended. See QueueDispatcher.promise.
   */
  promise?(queue: string, ids: readonly string[]): boolean;
  written?(queue: string, ids: readonly string[], stored: (i: number) => boolean): void;
  /** Given when the store can lease at insert: adds to idle consumers here lease their jobs to them (hand-off.ts). */
  handOff?: HandOff;
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
      const stored = (o: ItemOutcome) => o.ok && o.existing === undefined && o.duplicateOf === undefined;
      this.#afterInsert(outcomes.every(stored) ? rows : rows.filter((_, i) => stored(outcomes[i]!)));
      return outcomes;
    }, 10_000);
  }

  /**
   * Stores the jobs of a checked queue name and counts them; returns them. All are stored, or none.
   * A bounded queue that is full (overflow `reject`) makes the add wait for room up to `waitMs`
   * (the engine's queueFullWaitMs unless given), trying again each time jobs leave the queue; past
   * it, QueueFullError. An add in the caller's own transaction never waits: it may hold the queue's lock.
   */
  async addMany<P>(queue: string, items: readonly AddItem<P>[], waitMs: number = this.#d.settings.queueFullWaitMs): Promise<Job<P>[]> {
    const { clock, room } = this.#d;
    const deadline = clock.now() + waitMs;
    for (;;) {
      try {
        return await this.#addOnce<P>(queue, items);
      } catch (err) {
        if (!(err instanceof QueueFullError) || callerTransaction(items, this.#d.store) !== undefined) throw err;
        const leftMs = deadline - clock.now();
        if (leftMs <= 0) throw err;
        await room.wait(queue, leftMs);
      }
    }
  }

  async #addOnce<P>(queue: string, items: readonly AddItem<P>[]): Promise<Job<P>[]> {
    const { store, clock, settings, queues } = this.#d;
    const { rows, jobs } = buildJobRows<P>(queue, items, clock.now(), settings);
    // Only valid input reaches here. A new queue's row is written by the insert, in its transaction.
    const state = await queues.state(queue);
    const config = state.config;
    applyQueueDefaults(rows, jobs, config);
    // The bound as this process read it (at most settingsRefreshMs old); the store enforces it.
    const bound = queueBound(config);
    if (bound) for (const r of rows) r.bound = bound;
    const report: InsertReport | undefined = bound?.overflow === 'drop-oldest' ? { dropped: {} } : undefined;
    const tx = callerTransaction(items, store);
    // Written in the caller's transaction; consumers wake on its commit (NOTIFY) or by polling.
    /** Per row, the id of the job its idempotency key already named (nothing stored for it), or null. */
    let existing: InsertExisting | void = undefined;
    // Only adds a consumer here may take at once: outside a caller's transaction, to an unpaused queue.
    const local = tx === undefined && !state.paused;
    const handedOff = local && this.#d.handOff ? this.#d.handOff.lease(queue, rows, config) : 0;
    const promised = local && handedOff === 0 ? this.#promise(queue, rows) : [];
    let written = false;
    try {
      if (tx !== undefined) existing = await store.jobsInsertManyInTransaction!(tx, rows, report);
      else if (rows.length === 1) {
        const outcome = await this.#inserts.push(rows[0]!);
        if (!outcome.ok) throw outcome.error;
        if (outcome.existing !== undefined) existing = [outcome.existing];
        else if (outcome.duplicateOf !== undefined) existing = [{ duplicateOf: outcome.duplicateOf }];
        if (outcome.dropped) this.#d.telemetry.dropped(queue, outcome.dropped);
      }
      else if (rows.length > 0) {
        existing = await store.jobsInsertMany(rows, report);
        this.#afterInsert(existing ? rows.filter((_, i) => existing![i] === null) : rows);
      }
      written = true;
    } finally {
      // Row i was stored (promised ids and handed-off rows are all of `rows`, in order).
      const stored = (i: number) => written && (!existing || existing[i] === null);
      if (handedOff > 0) this.#d.handOff!.done(queue, handedOff, rows, jobs, stored);
      if (promised.length > 0) this.#d.written!(queue, promised, stored);
    }
    if (report) for (const [q, n] of Object.entries(report.dropped)) this.#d.telemetry.dropped(q, n);
    if (!existing) {
      this.#d.telemetry.added(queue, rows.length);
      return jobs;
    }
    this.#d.telemetry.added(queue, existing.filter((id) => id === null).length);
    return this.#replayed(jobs, existing);
  }

  /**
   * The ready rows of an add (none requiring a resource tag) that this process's consumers
   * promise to take themselves, all or none: marked `served`, so the insert wakes no other
   * process for them (see IntakeDeps.promise). Their ids; none when the store wakes no others.
   */
  #promise(queue: string, rows: NewJobRow[]): string[] {
    if (!this.#d.promise || rows.length === 0 || rows.some((r) => r.state !== 'ready' || r.requires)) return [];
    const ids = rows.map((r) => r.id);
    if (!this.#d.promise(queue, ids)) return [];
    for (const r of rows) r.served = true;
    return ids;
  }

  /**
   * The jobs of an add, those not stored replaced by the job that was there, as it is now: the
   * job an idempotency key named, or the live job holding a unique key (marked `duplicate`).
   */
  async #replayed<P>(jobs: Job<P>[], existing: InsertExisting): Promise<Job<P>[]> {
    const idOf = (e: InsertExisting[number] | undefined) => (e === null || e === undefined ? null : typeof e === 'string' ? e : e.duplicateOf);
    const ids = [...new Set(existing.map(idOf).filter((id): id is string => id !== null))];
    if (ids.length === 0) return jobs;
    const found = await this.#d.store.jobsGet(ids);
    const byId = new Map(ids.map((id, i) => [id, found[i]]));
    return jobs.map((job, i) => {
      const e = existing[i];
      const id = idOf(e);
      if (id === null) return job;
      // The key outlives a job deleted sooner (retention, an operator): the add stored nothing.
      // A holder of a unique key may have been deleted since the insert too.
      const earlier = byId.get(id);
      if (!earlier) throw new JobNotFoundError(id);
      return (typeof e === 'string' ? earlier : { ...earlier, duplicate: true }) as Job<P>;
    });
  }

  #afterInsert(rows: readonly NewJobRow[]): void {
    let lastQueue = '';
    for (const r of rows) {
      if (r.lease) continue; // leased to a consumer here by its insert: nothing to claim
      if (r.state === 'scheduled') this.#d.noteDue(r.runAt);
      else if (r.queue !== lastQueue) {
        lastQueue = r.queue;
        this.#d.wake(r.queue);
      }
    }
  }
}
