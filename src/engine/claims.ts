import type { Clock } from '../core/clock.ts';
import type { Job } from '../core/job.ts';
import { concurrencyRuleOf } from '../core/queue-config.ts';
import type { Store } from '../store/store.ts';
import { Admission, pauseRule } from './admission.ts';
import { rateLimitRule } from './rate-limit.ts';
import type { Membership } from './membership.ts';
import type { QueueSettings } from './queue-settings.ts';
import type { Telemetry } from './telemetry.ts';

export interface ClaimDeps {
  store: Store;
  clock: Clock;
  queues: QueueSettings;
  /** A shared store's registration: a process registers at its first claim (or when a consumer starts). */
  membership: Membership | null;
  telemetry: Telemetry;
  /** A claim reached the store. */
  markHealthy(): void;
  /** A claim failed (an outage is reported once, not per failure). */
  probeFailed(err: unknown, during: string, startedAt: number): void;
  /** Whether the Spool closed (a claim admitted while it closed takes nothing). */
  closed(): boolean;
  /** A rule held jobs of `queue` back until `at` (a rate limit's next token): wake its consumers then. */
  held(queue: string, at: number): void;
  /** Jobs may be admitted from `queue` now (a queue sharing its limiter gave tokens back). */
  wake(queue: string): void;
  /** A report that could not be made (tokens not given back: the bucket keeps fewer, never more). */
  reportError(err: unknown, during: string): void;
}

/** How jobs are leased from the store: every claim passes admission, then one store call. */
export class Claims {
  readonly #d: ClaimDeps;
  readonly #admission: Admission;

  constructor(deps: ClaimDeps) {
    this.#d = deps;
    // Pause first: a paused queue takes no tokens.
    this.#admission = new Admission([pauseRule, rateLimitRule(deps.store, deps.clock, deps.wake)]);
  }

  /** The dispatcher's claim: one that fails is reported and takes nothing. */
  async claimOrNone(queue: string, limit: number, tags: readonly string[] = []): Promise<Job[]> {
    const at = this.#d.clock.now();
    try {
      return await this.claim(queue, limit, tags);
    } catch (err) {
      this.#d.probeFailed(err, `claim from ${queue}`, at);
      return [];
    }
  }

  /** Leases up to `limit` jobs of `queue` whose required resource tags are all among `tags` (canonical). */
  async claim(queue: string, limit: number, tags: readonly string[] = []): Promise<Job[]> {
    const { store, clock, queues, membership, telemetry } = this.#d;
    // Settings and the paused flag as every process sees them, at most settingsRefreshMs old;
    // every claim passes the admission rules (pause, rate limit).
    const state = await queues.state(queue);
    const ticket = await this.#admission.admit(queue, limit, state);
    let leased = 0;
    try {
      if (ticket.admitted === 0 || this.#d.closed()) return [];
      await membership?.start();
      const started = performance.now();
      const now = clock.now();
      const byKey = state.config.policy !== 'fifo';
      // A queue without per-key limits or group FIFO passes no rule: its claim is the plain statement.
      const concurrency = concurrencyRuleOf(state.config);
      const jobs = await store.jobsClaim({
        queue, limit: ticket.admitted, leaseMs: state.config.visibilityTimeoutMs, now, workerId: membership?.id,
        ...(byKey ? { byKey } : {}), ...(concurrency ? { concurrency } : {}), ...(tags.length > 0 ? { tags } : {}),
      });
      leased = jobs.length;
      this.#d.markHealthy();
      telemetry.claimed(queue, jobs, performance.now() - started, now);
      return jobs;
    } finally {
      // Unused tokens go back in the background (the claim's jobs need not wait for it); a claim
      // that found fewer jobs than admitted emptied the queue, so only one that used every job
      // admitted, and was held back, waits for the next token.
      void ticket.settle(leased).catch((err: unknown) => this.#d.reportError(err, `give back the rate limit tokens of ${queue}`));
      if (ticket.retryAt !== null && leased === ticket.admitted && !this.#d.closed()) this.#d.held(queue, ticket.retryAt);
    }
  }
}
