import type { Clock, TimerHandle } from '../core/clock.ts';

export interface MaintenanceTasks {
  /** Runs the services due at tick number `tick` (see services.ts) and promotes due jobs. */
  tick(tick: number): Promise<void>;
  /** When the next scheduled job falls due, or null. */
  nextDueAt(): Promise<number | null>;
  /** Promotes due jobs and wakes their consumers. */
  promoteDue(): Promise<void>;
  onError(err: unknown): void;
}

/**
 * The engine's background duties on one lifecycle: a periodic tick (the services of
 * services.ts — lease reaper, retention, upkeep — and promotion of due jobs) and a precise timer for the
 * next delayed job, so a job scheduled for 12:00:00.250 runs then, not at the
 * next tick. Stop is idempotent and waits for a running tick to finish.
 * The database stays the source of truth: the timer only wakes consumers early.
 */
export class Maintenance {
  readonly #clock: Clock;
  readonly #tasks: MaintenanceTasks;
  readonly #intervalMs: number;
  #tickTimer: TimerHandle | null = null;
  #dueTimer: TimerHandle | null = null;
  #dueAt = Infinity;
  #running: Promise<void> | null = null;
  #ticks = 0;
  #stopped = true;

  constructor(clock: Clock, tasks: MaintenanceTasks, intervalMs: number) {
    this.#clock = clock;
    this.#tasks = tasks;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#scheduleTick();
    void this.#refreshDue();
  }

  /** A job was scheduled for `at`: make sure the timer fires by then. */
  noteDue(at: number): void {
    if (this.#stopped || at >= this.#dueAt) return;
    this.#setDueTimer(at);
  }

  /** Runs one tick now. */
  async runOnce(): Promise<void> {
    await this.exclusive(async () => {
      try {
        await this.#tasks.tick(this.#ticks++);
      } catch (err) {
        this.#tasks.onError(err);
      }
    });
  }

  /** Runs `fn` when no tick is running, and keeps ticks out until it is done. */
  async exclusive(fn: () => Promise<void>): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
    this.#running = fn();
    try {
      await this.#running;
    } finally {
      this.#running = null;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#tickTimer) this.#clock.clearTimeout(this.#tickTimer);
    if (this.#dueTimer) this.#clock.clearTimeout(this.#dueTimer);
    this.#tickTimer = this.#dueTimer = null;
    while (this.#running) await this.#running.catch(() => {});
  }

  #scheduleTick(): void {
    this.#tickTimer = this.#clock.setTimeout(async () => {
      this.#tickTimer = null;
      if (this.#stopped) return;
      await this.runOnce();
      await this.#refreshDue();
      if (!this.#stopped) this.#scheduleTick();
    }, this.#intervalMs);
  }

  #setDueTimer(at: number): void {
    if (this.#dueTimer) this.#clock.clearTimeout(this.#dueTimer);
    this.#dueAt = at;
    this.#dueTimer = this.#clock.setTimeout(async () => {
      this.#dueTimer = null;
      this.#dueAt = Infinity;
      if (this.#stopped) return;
      try {
        await this.#tasks.promoteDue();
      } catch (err) {
        this.#tasks.onError(err);
      }
      await this.#refreshDue();
    }, at - this.#clock.now());
  }

  async #refreshDue(): Promise<void> {
    if (this.#stopped) return;
    try {
      const at = await this.#tasks.nextDueAt();
      if (at !== null && !this.#stopped && (at < this.#dueAt || this.#dueTimer === null)) this.#setDueTimer(at);
    } catch (err) {
      this.#tasks.onError(err);
    }
  }
}
