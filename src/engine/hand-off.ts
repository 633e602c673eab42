import type { Job } from '../core/job.ts';
import { concurrencyRuleOf, type QueueConfig } from '../core/queue-config.ts';
import type { NewJobRow } from '../store/store.ts';
import { keyRateRuleOf } from './rate-limit.ts';
import type { Telemetry } from './telemetry.ts';

export interface HandOffDeps {
  /** The store's token for a job leased by its insert (Store.insertLeaseToken). */
  token: number;
  /** Reserves the credit of `queue`'s consumers here for `n` jobs, if they are idle (QueueDispatcher.handOut). */
  reserve(queue: string, n: number): boolean;
  /** The insert ended: `n` reserved, `jobs` the ones it leased and stored, for the consumers (QueueDispatcher.handedOut). */
  deliver(queue: string, n: number, jobs: Job[]): void;
  /** The lease's owner: this process's registration, null without a registry, undefined until it is registered. */
  owner(): string | null | undefined;
  telemetry: Telemetry;
}

/**
 * The hand-off. A job added while its queue's consumers in this process are idle (every set of
 * them came back empty from its last claim, with no wake-up since: nothing else is waiting) and
 * have room for it is leased by its own insert (NewJobRow.lease) and dealt out as a claim's jobs
 * are, so it reaches a worker after one store write instead of two (the insert, then a claim
 * that only finds it), and one round trip sooner. Only plain claims are replaced: a queue with a
 * rate limit, per-key limits, a policy other than fifo or a bound claims as before, as do delayed
 * jobs, jobs that require resource tags, adds in a caller's transaction and adds to a paused queue.
 * The lease is the one a claim would give (the queue's visibility timeout, the store's first
 * token, this process as its owner); a process that dies holding it loses nothing: the lease
 * runs out and the job is delivered again, as after any claim.
 */
export class HandOff {
  readonly #d: HandOffDeps;

  constructor(deps: HandOffDeps) {
    this.#d = deps;
  }

  /** Marks `rows` (all or none) to be leased by their insert when this process's consumers can take them all; how many it reserved (0: none). */
  lease(queue: string, rows: NewJobRow[], config: QueueConfig): number {
    if (rows.length === 0 || !plainClaims(config) || rows.some((r) => r.state !== 'ready' || r.requires || r.bound)) return 0;
    const owner = this.#d.owner();
    if (owner === undefined || !this.#d.reserve(queue, rows.length)) return 0;
    for (const r of rows) r.lease = { workerId: owner, expiresAt: r.createdAt + config.visibilityTimeoutMs };
    return rows.length;
  }

  /**
   * The add of `reserved` leased rows ended: those `stored` go to the consumers, as the job
   * `added[i]` became when leased (the add itself returns them as added).
   */
  done(queue: string, reserved: number, rows: readonly NewJobRow[], added: readonly Job[], stored: (i: number) => boolean): void {
    const leased: Job[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!r.lease || !stored(i)) continue;
      // A fresh payload, as a claim decodes one: the handler never shares the caller's object.
      leased.push({ ...added[i]!, payload: JSON.parse(r.payload), state: 'active', attempt: 1, leaseToken: this.#d.token, leaseExpiresAt: r.lease.expiresAt });
    }
    if (leased.length > 0) this.#d.telemetry.claimed(queue, leased, null, rows[0]!.createdAt);
    this.#d.deliver(queue, reserved, leased);
  }
}

/** Whether the queue's claims are the plain statement: fifo, no rate limit, no per-key limit. */
function plainClaims(config: QueueConfig): boolean {
  return config.policy === 'fifo' && config.rateLimit === null && concurrencyRuleOf(config) === null && keyRateRuleOf(config) === null;
}
