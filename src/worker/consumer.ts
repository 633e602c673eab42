import type { Clock } from '../core/clock.ts';
import type { Job, JobReport, JobState, Lease } from '../core/job.ts';

/**
 * What the worker runtime needs from a Spool, in-process or remote. The engine
 * implements it directly; a network client implements it over the wire. The
 * worker is written once against this interface.
 */
export interface ConsumerApi {
  readonly clock: Clock;
  /** Opens a push subscription on `queue`. Jobs arrive through `handlers.deliver`, never more than the credits granted. */
  subscribe(queue: string, handlers: SubscriptionHandlers): Subscription;
  /** Completes a job. @throws StaleLeaseError if the lease is no longer held. */
  ack(lease: Lease, result?: unknown): Promise<void>;
  /** Records a failed attempt; the job is retried after backoff or dead-lettered. Returns the job's new state. */
  nack(lease: Lease, error: unknown, options?: { unrecoverable?: boolean }): Promise<JobState>;
  /** Pushes the lease deadline out by the queue's visibility timeout (or `leaseMs`). Returns the new deadline. */
  extend(lease: Lease, leaseMs?: number): Promise<number>;
  /** Gives a leased job back without counting the attempt. */
  release(lease: Lease): Promise<void>;
  /** Stores a running job's progress and appends log lines. @throws StaleLeaseError if the lease is no longer held. */
  report(lease: Lease, report: JobReport): Promise<void>;
  /** Reports an error from work outside a handler (an ack or extend that failed); outages are reported once. */
  reportError?(err: unknown, during: string): void;
}

export interface SubscriptionHandlers {
  /** Called with leased jobs; the subscriber owns them from here. */
  deliver(jobs: Job[]): void;
  /**
   * The lease on a delivered job is gone (cancelled, or expired and taken back): stop working
   * on it. Only the delivery holding this very lease is meant: the same job may have been
   * leased again (a new token) and delivered here too.
   */
  revoke(lease: Lease, reason: Error): void;
  /** Who consumes, for the overview's list of consumers (a broker's client); absent for a worker in this process. */
  readonly owner?: ConsumerOwner;
  /**
   * The subscriber's resource tags, canonical (see checkResourceTags): only jobs whose
   * `requires` are all among them are delivered to it. Absent or empty: jobs without `requires` only.
   */
  readonly tags?: readonly string[];
  /** How many jobs it runs at once (a worker's concurrency): its load is the jobs it holds over this. Absent: the most credits it held. */
  readonly capacity?: number;
}

/** A remote consumer as the broker knows it. */
export interface ConsumerOwner {
  /** The connection's id. */
  readonly id: string;
  /** What the client called itself (unchecked). */
  readonly client: string;
  /** The tags the client gave itself in hello (checked). */
  readonly tags: Readonly<Record<string, string>>;
  readonly address: string;
  readonly connectedAt: number;
  /** The last frame received from it. */
  lastSeenAt(): number;
}

export interface Subscription {
  /** Allows `n` more jobs to be delivered. */
  addCredits(n: number): void;
  /** Stops deliveries. Jobs already delivered stay with the subscriber. */
  close(): void;
}
