import type { Clock } from '../core/clock.ts';
import { defaultQueueConfig, resolveQueueConfig, sameRate, type QueueConfig, type QueueConfigInput } from '../core/queue-config.ts';
import { InvalidArgumentError, QueueNotFoundError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';

/** A queue's settings and paused flag as this process last read them. */
export interface QueueState {
  readonly config: QueueConfig;
  readonly paused: boolean;
}

interface Entry extends QueueState {
  /** When the store was read (clock time); the entry is trusted until `readAt + refreshMs`. */
  readonly readAt: number;
}

/**
 * Each queue's settings and paused flag, read from the store and trusted for
 * `settingsRefreshMs` (1 s by default). Other processes on the same store change them
 * too (`pause` through another broker, a new visibility timeout set from the CLI), so
 * an entry past that age is read again before it is used: every process obeys a change
 * within `settingsRefreshMs` plus one read, and the hot path (add, claim) pays at most
 * one primary-key read per queue per interval, never one per call. Changes made through
 * this process apply at once.
 *
 * Reading or pausing never creates a queue: a queue exists once a job is added to it (the
 * store writes its row in the same transaction) or its settings are stored.
 */
export class QueueSettings {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #refreshMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #loads = new Map<string, Promise<Entry>>();

  constructor(store: Store, clock: Clock, refreshMs: number) {
    this.#store = store;
    this.#clock = clock;
    this.#refreshMs = refreshMs;
  }

  /** The queue's settings and paused flag, read again first if older than the refresh interval. */
  state(queue: string): QueueState | Promise<QueueState> {
    const entry = this.#entries.get(queue);
    if (entry && this.#clock.now() - entry.readAt < this.#refreshMs) return entry;
    let load = this.#loads.get(queue);
    if (!load) {
      load = this.#load(queue).finally(() => this.#loads.delete(queue));
      this.#loads.set(queue, load);
    }
    return load;
  }

  /** The queue's settings as last read, whatever their age, without reading the store; undefined when never read. */
  cached(queue: string): QueueConfig | undefined {
    return this.#entries.get(queue)?.config;
  }

  /** The queue's settings (defaults if it was never configured), no older than the refresh interval. */
  async get(queue: string): Promise<QueueConfig> {
    return (await this.state(queue)).config;
  }

  /** Merges `input` over the current settings, stores them and returns them. */
  async configure(queue: string, input: QueueConfigInput): Promise<QueueConfig> {
    const current = await this.#load(queue); // merge over what the store holds now, not over a cached copy
    const config = resolveQueueConfig(input, current.config);
    await this.#checkLimiter(queue, config);
    const now = this.#clock.now();
    await this.#store.queueUpsert(queue, config, now);
    this.#entries.set(queue, { config, paused: current.paused, readAt: now });
    return config;
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    const current = await this.#load(queue);
    const now = this.#clock.now();
    if (!current.stored) throw new QueueNotFoundError(queue); // pausing a misspelled name must not create a queue
    await this.#store.queueSetPaused(queue, paused, now);
    this.#entries.set(queue, { config: current.config, paused, readAt: now });
  }

  /** Forgets what was read of a queue (it was deleted): its next use reads the store again. */
  forget(queue: string): void {
    this.#entries.delete(queue);
  }

  /**
   * Refuses a shared limiter with other parameters than another queue gives it: one bucket has
   * one rate. Checked against the settings stored now (two configures racing through different
   * processes could both pass; the bucket then follows whichever claims last).
   */
  async #checkLimiter(queue: string, config: QueueConfig): Promise<void> {
    const limit = config.rateLimit;
    if (limit?.limiter == null) return;
    for (const other of await this.#store.queueList()) {
      if (other.name === queue) continue;
      const theirs = resolveQueueConfig(other.config, defaultQueueConfig()).rateLimit;
      if (theirs?.limiter !== limit.limiter || sameRate(theirs, limit)) continue;
      throw new InvalidArgumentError(
        'rateLimit',
        `queue ${JSON.stringify(other.name)} shares limiter ${JSON.stringify(limit.limiter)} with rate ${theirs.rate} per ${theirs.perMs} ms, burst ${theirs.burst}: ` +
          'every queue sharing a limiter must give it the same rate, perMs and burst (to change them, move the queues to a new limiter name)',
      );
    }
  }

  async #load(queue: string): Promise<Entry & { stored: boolean }> {
    const readAt = this.#clock.now();
    const stored = await this.#store.queueGet(queue);
    const entry = stored
      ? { config: resolveQueueConfig(stored.config, defaultQueueConfig()), paused: stored.paused, readAt }
      : { config: defaultQueueConfig(), paused: false, readAt };
    this.#entries.set(queue, entry);
    return { ...entry, stored: stored !== null };
  }
}
