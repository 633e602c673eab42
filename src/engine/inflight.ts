import type { Job, Lease } from '../core/job.ts';
import type { CreditSubscription } from './dispatcher.ts';

interface Delivery {
  token: number;
  attempt: number;
  queue: string;
  sub: CreditSubscription | null;
}

/**
 * Jobs this process delivered and that are not settled yet: lets a cancel or a reap
 * reach the handler that runs the job, and a nack find the attempt for its backoff
 * without a read. Bounded by the credits of this process's consumers.
 */
export class Inflight {
  readonly #byId = new Map<string, Delivery>();

  delivered(job: Job, sub: CreditSubscription | null): void {
    this.#byId.set(job.id, { token: job.leaseToken, attempt: job.attempt, queue: job.queue, sub });
  }

  /** The delivery `lease` belongs to, if it is the current one. */
  get(lease: Lease): Delivery | undefined {
    const d = this.#byId.get(lease.jobId);
    return d && d.token === lease.token ? d : undefined;
  }

  queueOf(jobId: string): string | undefined {
    return this.#byId.get(jobId)?.queue;
  }

  settled(lease: Lease): void {
    if (this.get(lease)) this.#byId.delete(lease.jobId);
  }

  /** The lease on a job is gone: tell its subscriber, and forget it. */
  revoke(jobId: string, reason: Error): void {
    const d = this.#byId.get(jobId);
    if (!d) return;
    this.#byId.delete(jobId);
    d.sub?.handlers.revoke(jobId, reason);
  }
}
