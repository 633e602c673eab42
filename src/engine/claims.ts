import type { Clock } from '../core/clock.ts';
import type { Job } from '../core/job.ts';
import type { Store } from '../store/store.ts';
import { Admission } from './admission.ts';
import type { Membership } from './membership.ts';
import type { QueueSettings } from './queue-settings.ts';
import type { Telemetry } from './telemetry.ts';

export interface ClaimDeps {
  store: Store;
  clock: Clock;
  queues: QueueSettings;
  /** A shared store's registration: a process registers at its first claim. */
  membership: Membership | null;
  telemetry: Telemetry;
  /** A claim reached the store. */
  markHealthy(): void;
  /** A claim failed (an outage is reported once, not per failure). */
  probeFailed(err: unknown, during: string, startedAt: number): void;
  /** Whether the Spool closed (a claim admitted while it closed takes nothing). */
  closed(): boolean;
}

/** How jobs are leased from the store: every claim passes admission, then one store call. */
export class Claims {
  readonly #d: ClaimDeps;
  readonly #admission = new Admission();

  constructor(deps: ClaimDeps) {
    this.#d = deps;
  }

  /** The dispatcher's claim: one that fails is reported and takes nothing. */
  async claimOrNone(queue: string, limit: number): Promise<Job[]> {
    const at = this.#d.clock.now();
    try {
      return await this.claim(queue, limit);
    } catch (err) {
      this.#d.probeFailed(err, `claim from ${queue}`, at);
      return [];
    }
  }

  async claim(queue: string, limit: number): Promise<Job[]> {
    const { store, clock, queues, membership, telemetry } = this.#d;
    // Settings and the paused flag as every process sees them, at most settingsRefreshMs old;
    // every claim passes the admission rules (pause today).
    const state = await queues.state(queue);
    const admitted = await this.#admission.admit(queue, limit, state);
    if (admitted === 0 || this.#d.closed()) return [];
    await membership?.start();
    const started = performance.now();
    const now = clock.now();
    const byKey = state.config.policy !== 'fifo';
    const jobs = await store.jobsClaim({ queue, limit: admitted, leaseMs: state.config.visibilityTimeoutMs, now, workerId: membership?.id, ...(byKey ? { byKey } : {}) });
    this.#d.markHealthy();
    telemetry.claimed(queue, jobs, performance.now() - started, now);
    return jobs;
  }
}
