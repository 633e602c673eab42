import type { Job } from '../core/job.ts';

/** What happened to one queue's jobs in this process since it started: cumulative counts. */
export interface QueueCounts {
  /** Jobs added through this process. */
  added: number;
  /** Jobs leased (delivered to a worker or a pull). */
  claimed: number;
  completed: number;
  /** Failed attempts that will be retried. */
  failed: number;
  /** Failed attempts that left the job dead. */
  dead: number;
  /** Leases that ran out and were taken back by this process's reaper. */
  expired: number;
  /** Sum and count of handler run times (lease to ack or nack) of attempts delivered by this process. */
  serviceMsSum: number;
  serviceCount: number;
  /** Sum and count of the times from add to completion of jobs completed through this process. */
  systemMsSum: number;
  systemCount: number;
  /** Waiting jobs that adds through this process dropped from a full bounded queue (overflow `drop-oldest`). */
  dropped: number;
}

/** Hears each event as it happens, for histograms (Prometheus); the counts are kept either way. */
export interface TelemetryListener {
  added?(queue: string, count: number): void;
  /** `claimMs`: how long the store took (null: leased by their insert, no claim: hand-off.ts); `jobs` carry runAt and createdAt for the wait before start. */
  claimed?(queue: string, jobs: readonly Job[], claimMs: number | null, now: number): void;
  /** An attempt this process delivered ended: how long it ran and how long since the job was added (null when not known here). */
  settled?(queue: string, outcome: 'completed' | 'failed' | 'dead', serviceMs: number | null, sinceAddedMs: number | null): void;
  expired?(queue: string, count: number): void;
  /** Adds dropped `count` waiting jobs of a full bounded queue (overflow `drop-oldest`). */
  dropped?(queue: string, count: number): void;
  /** A publish to a topic was written; `unrouted`: its topic matched no binding (docs/routing.md). */
  published?(unrouted: boolean): void;
}

const zero = (): QueueCounts => ({ added: 0, claimed: 0, completed: 0, failed: 0, dead: 0, expired: 0, serviceMsSum: 0, serviceCount: 0, systemMsSum: 0, systemCount: 0, dropped: 0 });

/**
 * The engine's counts of what it did, per queue: the measurements behind the queueing model
 * (λ from adds, μ from completions, the service time from run times) and the metrics. Counting
 * is a few additions on paths that already write to the store; listeners are called only if
 * someone listens. Bounded by the queues this process touched; a deleted queue is forgotten.
 */
export class Telemetry {
  readonly #counts = new Map<string, QueueCounts>();
  readonly #listeners: TelemetryListener[] = [];

  /** Adds a listener; returns the function that removes it. */
  listen(listener: TelemetryListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** A copy of every queue's counts. */
  snapshot(): Map<string, QueueCounts> {
    return new Map([...this.#counts].map(([q, c]) => [q, { ...c }]));
  }

  forget(queue: string): void {
    this.#counts.delete(queue);
  }

  /** A publish was written (its copies are counted as adds of their queues). */
  published(unrouted: boolean): void {
    for (const l of this.#listeners) l.published?.(unrouted);
  }

  added(queue: string, count: number): void {
    this.#of(queue).added += count;
    for (const l of this.#listeners) l.added?.(queue, count);
  }

  claimed(queue: string, jobs: readonly Job[], claimMs: number | null, now: number): void {
    if (jobs.length === 0) return;
    this.#of(queue).claimed += jobs.length;
    for (const l of this.#listeners) l.claimed?.(queue, jobs, claimMs, now);
  }

  settled(queue: string, outcome: 'completed' | 'failed' | 'dead', serviceMs: number | null, sinceAddedMs: number | null): void {
    const c = this.#of(queue);
    c[outcome]++;
    if (serviceMs !== null) {
      c.serviceMsSum += serviceMs;
      c.serviceCount++;
    }
    if (outcome === 'completed' && sinceAddedMs !== null) {
      c.systemMsSum += sinceAddedMs;
      c.systemCount++;
    }
    for (const l of this.#listeners) l.settled?.(queue, outcome, serviceMs, sinceAddedMs);
  }

  expired(queues: Readonly<Record<string, number>>): void {
    for (const [queue, count] of Object.entries(queues)) {
      this.#of(queue).expired += count;
      for (const l of this.#listeners) l.expired?.(queue, count);
    }
  }

  dropped(queue: string, count: number): void {
    if (count <= 0) return;
    this.#of(queue).dropped += count;
    for (const l of this.#listeners) l.dropped?.(queue, count);
  }

  #of(queue: string): QueueCounts {
    let c = this.#counts.get(queue);
    if (!c) this.#counts.set(queue, (c = zero()));
    return c;
  }
}
