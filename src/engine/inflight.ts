import { leaseKey as keyOf, type Job, type Lease } from '../core/job.ts';
import type { CreditSubscription } from './dispatcher.ts';

interface Delivery {
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
    this.#byLease.set(keyOf({ jobId: job.id, token: job.leaseToken }), { attempt: job.attempt, queue: job.queue, name: job.name, sub, startedAt: this.#now(), createdAt: job.createdAt });
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

  /** How many deliveries are unsettled (for tests and stats). */
  get size(): number {
    return this.#byLease.size;
  }
}
