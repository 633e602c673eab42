import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { ConsumerAnnouncement, Store } from '../store/store.ts';
import type { Health } from '../core/health.ts';

/**
 * This process's registration in a shared store, kept alive by heartbeats. If the
 * process dies, the leader sees the registration lapse after 1.5 heartbeat
 * intervals and takes its leases back at once, rather than at each job's
 * visibility timeout. If a heartbeat is refused (this process was presumed dead,
 * e.g. after a long pause, and its leases were taken back), the process reports
 * itself unhealthy, registers again, and aborts the handlers whose leases were taken
 * (onPresumedDead).
 *
 * The registration carries what the process consumes (queues, resource tags, capacity), written
 * again whenever that changes, so queue stats can tell ready jobs no live worker can take.
 */
export class Membership {
  readonly id = randomUUID();
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #health: Health;
  readonly #intervalMs: number;
  readonly #onError: (err: unknown, startedAt: number) => void;
  readonly #onRecovered: () => void;
  readonly #onPresumedDead: () => Promise<unknown>;
  readonly #consumers: () => ConsumerAnnouncement[];
  /** What the process consumes changed since the registry was last told. */
  #dirty = false;
  #announcing: Promise<void> | null = null;
  #timer: TimerHandle | null = null;
  #stopped = false;
  #beating: Promise<void> | null = null;

  constructor(options: {
    store: Store; clock: Clock; health: Health; intervalMs: number; onError: (err: unknown, startedAt: number) => void; onRecovered: () => void;
    /** A heartbeat was refused and the process registered again: its leases may have been taken back meanwhile. */
    onPresumedDead?: () => Promise<unknown>;
    /** What the process consumes now (see WorkerRegistration.consumers); absent: nothing announced. */
    consumers?: () => ConsumerAnnouncement[];
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#health = options.health;
    this.#intervalMs = options.intervalMs;
    this.#onError = options.onError;
    this.#onRecovered = options.onRecovered;
    this.#onPresumedDead = options.onPresumedDead ?? (async () => {});
    this.#consumers = options.consumers ?? (() => []);
  }

  #registration() {
    this.#dirty = false;
    return { id: this.id, host: hostname(), pid: process.pid, consumers: this.#consumers() };
  }

  /**
   * What the process consumes changed: the registry is told (one write at a time; changes made
   * meanwhile go in the next); not yet registered, the process registers with it.
   */
  announce(): void {
    this.#dirty = true;
    if (this.#stopped) return;
    // A consumer registers the process even before its first claim (a paused queue's workers claim
    // nothing), so what it consumes counts at once; a failed registration is retried by the next claim.
    if (this.#started === null) {
      void this.start().catch(() => {});
      return;
    }
    if (this.#announcing || !this.#store.workerAnnounce) return;
    this.#announcing = (async () => {
      try {
        await this.#started?.catch(() => {}); // a failed registration is the claim's to report; the next one carries the change
        while (this.#dirty && !this.#stopped) {
          this.#dirty = false;
          await this.#store.workerAnnounce!(this.id, this.#consumers());
        }
      } catch (err) {
        // The next change or registration tells it again.
        this.#dirty = true;
        this.#onError(err, this.#clock.now());
      } finally {
        this.#announcing = null;
      }
    })();
  }

  /** How long a registration lives without a heartbeat. */
  get ttlMs(): number {
    return Math.round(this.#intervalMs * 1.5);
  }

  #started: Promise<void> | null = null;

  /** True once registration was attempted: from then on, heartbeats decide health. */
  get started(): boolean {
    return this.#started !== null;
  }

  /** Registers (once; later calls wait for the first) and starts heartbeats. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      await this.#store.workerRegister!(this.#registration(), this.#clock.now(), this.ttlMs);
      this.#schedule();
    })().catch((err) => {
      this.#started = null; // the next claim tries again
      throw err;
    });
    return this.#started;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (!this.#started) return;
    await this.#started.catch(() => {});
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    await this.#beating?.catch(() => {});
    await this.#announcing;
    await this.#store.workerUnregister!(this.id).catch(() => {});
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(async () => {
      this.#beating = this.#beat();
      await this.#beating;
      this.#beating = null;
      this.#schedule();
    }, this.#intervalMs);
  }

  async #beat(): Promise<void> {
    const startedAt = this.#clock.now();
    try {
      let sent = this.#clock.now();
      let ok = await this.#store.workerHeartbeat!(this.id, sent, this.ttlMs);
      // A heartbeat that took long (a slow or just-restarted database) carried a stale deadline: renew it at once.
      while (ok && this.#clock.now() - sent > this.ttlMs / 3 && !this.#stopped) {
        sent = this.#clock.now();
        ok = await this.#store.workerHeartbeat!(this.id, sent, this.ttlMs);
      }
      if (!ok) {
        this.#health.down('heartbeat refused: this process was presumed dead and its jobs went back to their queues; registering again');
        await this.#store.workerRegister!(this.#registration(), this.#clock.now(), this.ttlMs);
        ok = true;
        await this.#onPresumedDead();
      }
      if (this.#health.up()) this.#onRecovered();
    } catch (err) {
      this.#onError(err, startedAt);
    }
  }
}
