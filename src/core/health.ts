import type { Clock } from './clock.ts';

/** Whether this process can reach its store and claim right now. */
export interface HealthStatus {
  healthy: boolean;
  /** Why not, when unhealthy. */
  reason: string | null;
  /** When the current status began (Unix ms). */
  since: number;
}

/** A change of health, as {@link Health} reports it with its line: down with why, or up after how long. */
export type HealthChange = { healthy: false; reason: string } | { healthy: true; downMs: number };

/**
 * Tracks health and reports each change once: an outage is one line when it
 * starts and one when it ends, never a line per failed call.
 */
export class Health {
  readonly #clock: Clock;
  readonly #log: (line: string, change: HealthChange) => void;
  #status: HealthStatus;
  #recoveredAt: number | null = null;

  /** `log` gets each change as a line for people, and as a {@link HealthChange} for structured logs. */
  constructor(clock: Clock, log: (line: string, change: HealthChange) => void) {
    this.#clock = clock;
    this.#log = log;
    this.#status = { healthy: true, reason: null, since: clock.now() };
  }

  get status(): HealthStatus {
    return { ...this.#status };
  }

  get healthy(): boolean {
    return this.#status.healthy;
  }

  /** When health last came back after an outage, or null if it never went down. */
  get recoveredAt(): number | null {
    return this.#recoveredAt;
  }

  /** Marks the process unhealthy; returns true (and logs) only on the change. */
  down(reason: string): boolean {
    if (!this.#status.healthy) return false;
    this.#status = { healthy: false, reason, since: this.#clock.now() };
    this.#log(`spool: unhealthy: ${reason}`, { healthy: false, reason });
    return true;
  }

  /** Marks the process healthy again; returns true (and logs) only on the change. */
  up(): boolean {
    if (this.#status.healthy) return false;
    const downMs = this.#clock.now() - this.#status.since;
    this.#status = { healthy: true, reason: null, since: this.#clock.now() };
    this.#recoveredAt = this.#status.since;
    this.#log(`spool: healthy again after ${(downMs / 1000).toFixed(1)} s`, { healthy: true, downMs });
    return true;
  }
}
