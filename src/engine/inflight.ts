import { StaleLeaseError } from '../core/errors.ts';
import { leaseKey as keyOf, type Job, type Lease } from '../core/job.ts';
import type { Store } from '../store/store.ts';
import type { CreditSubscription } from './dispatcher.ts';

interface Delivery {
  lease: Lease;
  attempt: number;
  queue: string;
  /** The job's name: a queue with policy sjf learns its run time at the ack. */
  name: string;
  sub: CreditSubscription | null;
  /** When it was delivered, and when its job was added: the run time and time in the system at its ack. */
  startedAt: number;
  createdAt: number;
}

/**
 * Jobs this process delivered and that are not settled yet: lets a cancel or a reap
 * reach the handler that runs the job, and a nack find the attempt for its backoff
 * without a read. Bounded by the credits of this process's consumers.
 *
 * Every entry is keyed by (job id, lease token), never by job id alone: a reap or cancel
 * whose result arrives after the job was leased again (through a poll, a NOTIFY, this
 * process's own claim) must reach only the delivery whose lease it ended.
 */
export class Inflight {
  readonly #byLease = new Map<string, Delivery>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  delivered(job: Job, sub: CreditSubscription | null): void {
    const lease = { jobId: job.id, token: job.leaseToken };
    this.#byLease.set(keyOf(lease), { lease, attempt: job.attempt, queue: job.queue, name: job.name, sub, startedAt: this.#now(), createdAt: job.createdAt });
  }

  /** Per subscriber: its deliveries not settled yet. */
  busyBySubscriber(): Map<CreditSubscription, number> {
    const busy = new Map<CreditSubscription, number>();
    for (const d of this.#byLease.values()) if (d.sub) busy.set(d.sub, (busy.get(d.sub) ?? 0) + 1);
    return busy;
  }

  /** Per queue: deliveries to subscribers not settled yet (the busy part of their slots). */
  busyByQueue(): Map<string, number> {
    const busy = new Map<string, number>();
    for (const d of this.#byLease.values()) if (d.sub) busy.set(d.queue, (busy.get(d.queue) ?? 0) + 1);
    return busy;
  }

  /** The delivery of `lease`, if this process made it and it is not settled. */
  get(lease: Lease): Delivery | undefined {
    return this.#byLease.get(keyOf(lease));
  }

  settled(lease: Lease): void {
    this.#byLease.delete(keyOf(lease));
  }

  /** The lease is gone: tell the subscriber of that very delivery, and forget it. Other leases on the job are untouched. */
  revoke(lease: Lease, reason: Error): void {
    const key = keyOf(lease);
    const d = this.#byLease.get(key);
    if (!d) return;
    this.#byLease.delete(key);
    d.sub?.handlers.revoke(lease, reason);
  }

  /** The leases of the deliveries not settled yet. */
  leases(): Lease[] {
    return [...this.#byLease.values()].map((d) => d.lease);
  }

  /** How many deliveries are unsettled (for tests and stats). */
  get size(): number {
    return this.#byLease.size;
  }
}

/**
 * Whether the delivery of `token` ended other than by its handler: its lease expired (taken back:
 * the job is ready again, or dead after too many stalls, with the same token until its next
 * lease) or the job was cancelled. A job its handler's ack or nack just settled keeps its
 * delivery, which the settle will end.
 */
function takenBack(job: Job, token: number): boolean {
  if (job.state === 'active') return false;
  const ended = job.history.findLast((h) => h.token === token);
  return ended === undefined || ended.outcome === 'expired' || ended.outcome === 'cancelled';
}

/** How many jobs one read of revokeTakenBack asks the store for. */
const READ_BATCH = 500;

/**
 * After this process learned it was presumed dead (its heartbeat refused: another process took its
 * leases back), revokes each delivery whose lease is no longer held, read from the store, so its
 * handler's signal aborts instead of running on beside the job's next delivery (whose worker may
 * run it at once: a per-key limit counts leases). Deliveries leased since keep running. Returns
 * how many were revoked.
 */
export async function revokeTakenBack(store: Pick<Store, 'jobsGet'>, inflight: Inflight): Promise<number> {
  const leases = inflight.leases();
  let revoked = 0;
  for (let i = 0; i < leases.length; i += READ_BATCH) {
    const batch = leases.slice(i, i + READ_BATCH);
    const jobs = await store.jobsGet(batch.map((l) => l.jobId));
    batch.forEach((lease, k) => {
      const job = jobs[k];
      if (job && job.leaseToken === lease.token && !takenBack(job, lease.token)) return; // still held, or just settled by its handler
      inflight.revoke(lease, new StaleLeaseError(lease.jobId, lease.token, job?.state ?? null, job?.leaseToken ?? null));
      revoked++;
    });
  }
  return revoked;
}
