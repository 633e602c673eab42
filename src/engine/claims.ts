import type { Clock } from '../core/clock.ts';
import type { Job } from '../core/job.ts';
import { concurrencyRuleOf } from '../core/queue-config.ts';
import type { ClaimedJobs, Store } from '../store/store.ts';
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
  /** A rate limit held jobs of `queue` back until `at` (its next token): wake its consumers then. */
  held(queue: string, at: number): void;
}

/** How jobs are leased from the store: every claim passes admission, then one store call. */
export class Claims {
  readonly #d: ClaimDeps;
  readonly #admission: Admission;

  constructor(deps: ClaimDeps) {
    this.#d = deps;
    // Pause first: a paused queue reaches no store, and takes no tokens.
    this.#admission = new Admission([pauseRule, rateLimitRule]);
  }

  /**
   * The dispatcher's claim: one that fails is reported and takes nothing. Jobs a rate limit held
   * back are marked (`heldUntil`): the queue is not empty, so a returned credit claims again.
   */
  async claimOrNone(queue: string, limit: number, tags: readonly string[] = []): Promise<ClaimedJobs> {
    const at = this.#d.clock.now();
    try {
      return await this.#claim(queue, limit, tags);
    } catch (err) {
      this.#d.probeFailed(err, `claim from ${queue}`, at);
      return [];
    }
  }

  /** Leases up to `limit` jobs of `queue` whose required resource tags are all among `tags` (canonical). */
  async claim(queue: string, limit: number, tags: readonly string[] = []): Promise<Job[]> {
    const jobs = await this.#claim(queue, limit, tags);
    return jobs.heldUntil === undefined ? jobs : [...jobs]; // the store's note stays here: callers get plain jobs
  }

  async #claim(queue: string, limit: number, tags: readonly string[]): Promise<ClaimedJobs> {
    const { store, clock, queues, membership, telemetry } = this.#d;
    // Settings and the paused flag as every process sees them, at most settingsRefreshMs old;
    // every claim passes the admission rules (pause, rate limit).
    const state = await queues.state(queue);
    const ticket = this.#admission.admit(queue, limit, state);
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
      ...ticket.claim,
    });
    this.#d.markHealthy();
    telemetry.claimed(queue, jobs, performance.now() - started, now);
    // A rate limit held jobs back: its next token wakes the queue's consumers (no polling).
    if (jobs.heldUntil !== undefined && !this.#d.closed()) this.#d.held(queue, jobs.heldUntil);
    return jobs;
  }
}
