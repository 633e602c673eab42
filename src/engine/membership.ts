import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import type { Health } from '../core/health.ts';

/**
 * This process's registration in a shared store, kept alive by heartbeats. If the
 * process dies, the leader sees the registration lapse after 1.5 heartbeat
 * intervals and takes its leases back at once, rather than at each job's
 * visibility timeout. If a heartbeat is refused (this process was presumed dead,
 * e.g. after a long pause, and its leases were taken back), the process reports
 * itself unhealthy and registers again.
 */
export class Membership {
  readonly id = randomUUID();
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #health: Health;
  readonly #intervalMs: number;
  readonly #onError: (err: unknown, startedAt: number) => void;
  readonly #onRecovered: () => void;
  #timer: TimerHandle | null = null;
  #stopped = false;
  #beating: Promise<void> | null = null;

  constructor(options: { store: Store; clock: Clock; health: Health; intervalMs: number; onError: (err: unknown, startedAt: number) => void; onRecovered: () => void }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#health = options.health;
    this.#intervalMs = options.intervalMs;
    this.#onError = options.onError;
    this.#onRecovered = options.onRecovered;
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
      await this.#store.workerRegister!({ id: this.id, host: hostname(), pid: process.pid }, this.#clock.now(), this.ttlMs);
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
        await this.#store.workerRegister!({ id: this.id, host: hostname(), pid: process.pid }, this.#clock.now(), this.ttlMs);
        ok = true;
      }
      if (this.#health.up()) this.#onRecovered();
    } catch (err) {
      this.#onError(err, startedAt);
    }
  }
}
