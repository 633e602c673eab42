import type { Clock } from '../core/clock.ts';
import { defaultQueueConfig, resolveQueueConfig, type QueueConfig, type QueueConfigInput } from '../core/queue-config.ts';
import type { Store } from '../store/store.ts';

/**
 * Each queue's settings and paused flag, read from the store once and kept here, so
 * the hot path (add, claim) never waits for them after the first use. A queue used
 * for the first time is created with the default settings.
 */
export class QueueSettings {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #configs = new Map<string, QueueConfig>();
  readonly #paused = new Map<string, boolean>();
  readonly #loads = new Map<string, Promise<QueueConfig>>();

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** The settings if already known, without waiting. */
  cached(queue: string): QueueConfig | undefined {
    return this.#configs.get(queue);
  }

  /** The queue's settings (defaults if it was never configured). */
  get(queue: string): Promise<QueueConfig> {
    const cached = this.#configs.get(queue);
    if (cached) return Promise.resolve(cached);
    let load = this.#loads.get(queue);
    if (!load) {
      load = this.#load(queue).finally(() => this.#loads.delete(queue));
      this.#loads.set(queue, load);
    }
    return load;
  }

  /** Merges `input` over the current settings, stores them and returns them. */
  async configure(queue: string, input: QueueConfigInput): Promise<QueueConfig> {
    const next = resolveQueueConfig(input, await this.get(queue));
    await this.#store.queueUpsert(queue, next, this.#clock.now());
    this.#configs.set(queue, next);
    return next;
  }

  isPaused(queue: string): boolean {
    return this.#paused.get(queue) === true;
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    await this.get(queue);
    await this.#store.queueSetPaused(queue, paused, this.#clock.now());
    this.#paused.set(queue, paused);
  }

  async #load(queue: string): Promise<QueueConfig> {
    const stored = await this.#store.queueGet(queue);
    let config: QueueConfig;
    if (stored) {
      config = resolveQueueConfig(stored.config, defaultQueueConfig());
      this.#paused.set(queue, stored.paused);
    } else {
      config = defaultQueueConfig();
      await this.#store.queueUpsert(queue, config, this.#clock.now());
    }
    this.#configs.set(queue, config);
    return config;
  }
}
