import { Counter, Histogram, type Registry } from 'prom-client';
import type { Job } from '../core/job.ts';
import type { TelemetryListener } from '../engine/telemetry.ts';
import type { QueueLabels } from './metrics-labels.ts';

// Few buckets: each is a series per queue, and a scrape's size and time grow with them.
/** One store claim: from a quarter of a millisecond (SQLite) to a second (a database in trouble). */
const CLAIM_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** How long a job waits or lives: from a millisecond (a worker keeping up) to an hour (a backlog). */
const JOB_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600];

/**
 * The metrics counted as the engine works, fed by its telemetry listener: counters of what
 * happened to jobs and histograms of how long it took, per queue. The listener only adds
 * numbers; prom-client does the rest when it is scraped.
 */
export class EventMetrics {
  readonly #labels: QueueLabels;
  readonly #added: Counter<'queue'>;
  readonly #claimed: Counter<'queue'>;
  readonly #completed: Counter<'queue'>;
  readonly #failed: Counter<'queue'>;
  readonly #dead: Counter<'queue'>;
  readonly #expired: Counter<'queue'>;
  readonly #dropped: Counter<'queue'>;
  readonly #published: Counter<'routing'>;
  readonly #claimSeconds: Histogram<'queue'>;
  readonly #queuedSeconds: Histogram<'queue'>;
  readonly #turnaroundSeconds: Histogram<'queue'>;

  constructor(registry: Registry, labels: QueueLabels) {
    this.#labels = labels;
    const registers = [registry];
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['queue'], registers });
    this.#added = counter('spool_jobs_added_total', 'Jobs added through this broker.');
    this.#claimed = counter('spool_jobs_claimed_total', 'Jobs this broker leased to a worker or a pull (a job run again is counted again).');
    this.#completed = counter('spool_jobs_completed_total', 'Jobs completed by an ack to this broker of an attempt it delivered.');
    this.#failed = counter('spool_jobs_failed_total', 'Failed attempts reported to this broker that will be retried.');
    this.#dead = counter('spool_jobs_dead_total', 'Failed attempts reported to this broker that left their job dead (out of attempts, or unrecoverable).');
    this.#expired = counter('spool_leases_expired_total', "Leases that ran out and were taken back by this broker's reaper (on a shared store, by the leader's).");
    this.#dropped = counter('spool_jobs_dropped_total', 'Waiting jobs that adds through this broker dropped from a full bounded queue (maxLength, overflow drop-oldest): dead, deadReason dropped.');
    this.#published = new Counter({
      name: 'spool_publishes_total', labelNames: ['routing'], registers,
      help: 'Publishes to topics written through this broker: routing="routed" (matched a binding), "unrouted" (matched none: counted, and sent to the unrouted queue if one is set).',
    });
    const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, labelNames: ['queue'], buckets, registers });
    this.#claimSeconds = histogram('spool_claim_duration_seconds', 'How long the store took for one claim that leased at least one job.', CLAIM_BUCKETS);
    this.#queuedSeconds = histogram('spool_job_queued_seconds', 'From when a job was due (added, or its delay or retry backoff over) to its claim.', JOB_BUCKETS);
    this.#turnaroundSeconds = histogram('spool_job_turnaround_seconds', 'From add to completion, for jobs whose completing attempt this broker delivered.', JOB_BUCKETS);
  }

  /** The listener to give `spool.telemetry.listen`. */
  listener(): TelemetryListener {
    return {
      added: (queue, count) => this.#added.inc(this.#labels.of(queue), count),
      claimed: (queue, jobs, claimMs, now) => this.#claimedJobs(queue, jobs, claimMs, now),
      settled: (queue, outcome, _serviceMs, sinceAddedMs) => {
        const label = this.#labels.of(queue);
        if (outcome === 'completed') {
          this.#completed.inc(label);
          if (sinceAddedMs !== null) this.#turnaroundSeconds.observe(label, sinceAddedMs / 1000);
        } else (outcome === 'failed' ? this.#failed : this.#dead).inc(label);
      },
      expired: (queue, count) => this.#expired.inc(this.#labels.of(queue), count),
      dropped: (queue, count) => this.#dropped.inc(this.#labels.of(queue), count),
      published: (unrouted) => this.#published.inc({ routing: unrouted ? 'unrouted' : 'routed' }),
    };
  }

  #claimedJobs(queue: string, jobs: readonly Job[], claimMs: number | null, now: number): void {
    const label = this.#labels.of(queue);
    this.#claimed.inc(label, jobs.length);
    if (claimMs !== null) this.#claimSeconds.observe(label, claimMs / 1000); // null: leased by their insert, no claim
    // An indexed loop: this runs for every job delivered, and needs no iterator.
    for (let i = 0; i < jobs.length; i++) this.#queuedSeconds.observe(label, Math.max(0, now - jobs[i]!.runAt) / 1000);
  }
}
