import { Counter, Gauge, type Registry } from 'prom-client';
import type { HealthStatus } from '../core/health.ts';
import type { JobState } from '../core/job.ts';
import type { Overview, QueueOverview } from '../model/overview.ts';
import { OTHER_QUEUE, type QueueLabels } from './metrics-labels.ts';

/** What the gauges are read from at each scrape. */
export interface StateSource {
  /** The overview: per-queue stats and model, cached by the engine for up to a second. */
  overview(): Promise<Overview>;
  health(): HealthStatus;
  /** Open WebSocket connections. */
  connections(): number;
}

const STATES: readonly JobState[] = ['scheduled', 'ready', 'active', 'completed', 'dead', 'cancelled'];

/** One `queue` label's figures: a queue's own, or the sum over the queues under `_other`. */
interface Row {
  jobs: Record<JobState, number>;
  oldestReadyAgeMs: number;
  paused: number;
  arrivalRate: number;
  completionRate: number;
  failureRate: number;
  workers: number;
  /** Only for a queue of its own: a utilisation or a mean wait does not add up over queues. */
  utilisation: number | null;
  meanWaitMs: number | null;
  /** Only for a bounded queue of its own. */
  maxLength: number | null;
}

/**
 * The metrics that are a state rather than a count: jobs per state and the queueing model per
 * queue (from the overview), the store's health and the open connections. Set at each scrape;
 * a queue that is gone (deleted) has no series at the next one.
 */
export class StateMetrics {
  readonly #source: StateSource;
  readonly #labels: QueueLabels;
  readonly #jobs: Gauge<'queue' | 'state'>;
  readonly #perQueue: Record<'oldestReady' | 'paused' | 'arrival' | 'completion' | 'failure' | 'workers' | 'utilisation' | 'meanWait' | 'maxLength', Gauge<'queue'>>;
  readonly #healthy: Gauge;
  readonly #outages: Counter;
  readonly #connections: Gauge;
  #lastHealth: HealthStatus;

  constructor(registry: Registry, labels: QueueLabels, source: StateSource) {
    this.#source = source;
    this.#labels = labels;
    const registers = [registry];
    this.#jobs = new Gauge({ name: 'spool_queue_jobs', help: 'Jobs in the store per queue and state.', labelNames: ['queue', 'state'], registers });
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['queue'], registers });
    this.#perQueue = {
      oldestReady: gauge('spool_queue_oldest_ready_age_seconds', 'How long the oldest ready job of the queue has waited (0 when none is ready; under _other the oldest of those queues).'),
      paused: gauge('spool_queue_paused', '1 when the queue is paused, else 0 (under _other: how many of those queues are paused).'),
      arrival: gauge('spool_queue_arrival_rate', 'λ: jobs added per second through this broker, over the last minute.'),
      completion: gauge('spool_queue_completion_rate', 'μ: jobs completed per second through this broker, over the last minute.'),
      failure: gauge('spool_queue_failure_rate', 'Failed attempts (retried or dead) per second through this broker, over the last minute.'),
      workers: gauge('spool_queue_consumer_slots', 'c: worker slots consuming from the queue through this broker.'),
      utilisation: gauge('spool_queue_utilisation_ratio', "ρ = λ·S / c: the share of the workers' time the arrivals need (absent without workers or a service time; not given for _other)."),
      maxLength: gauge('spool_queue_max_length', "The queue's bound (maxLength): most jobs waiting to start it holds (absent for an unbounded queue; not given for _other)."),
      meanWait: gauge('spool_queue_mean_wait_seconds', 'W: mean time from add to completion over the last minute, or L / λ (absent when nothing arrives or completes; not given for _other).'),
    };
    this.#healthy = new Gauge({ name: 'spool_store_healthy', help: '1 while this broker can reach its store and claim, else 0.', registers });
    this.#outages = new Counter({ name: 'spool_store_outages_total', help: 'Times this broker saw its store become unreachable (checked every second and at each scrape).', registers });
    this.#connections = new Gauge({ name: 'spool_broker_connections', help: 'Open WebSocket connections.', registers });
    this.#lastHealth = source.health();
    if (!this.#lastHealth.healthy) this.#outages.inc();
    this.#healthy.set(this.#lastHealth.healthy ? 1 : 0);
  }

  /**
   * Counts an outage if one began since the last look. `since` changes with every change of
   * health, so an outage that began and ended between two looks is seen too (as one, however
   * many there were): the engine reports outages to its `onEvent`, which the application
   * that opened the Spool owns, so the broker looks rather than listens.
   */
  checkHealth(): void {
    const now = this.#source.health();
    const before = this.#lastHealth;
    if ((now.since !== before.since || now.healthy !== before.healthy) && (!now.healthy || before.healthy)) this.#outages.inc();
    this.#lastHealth = now;
    this.#healthy.set(now.healthy ? 1 : 0);
  }

  /** Sets every gauge from the overview and the broker. Without an overview (the store unreachable), the per-queue gauges are left out. */
  async refresh(): Promise<void> {
    let overview: Overview | null = null;
    try {
      overview = await this.#source.overview();
    } catch {
      // The store cannot say: no per-queue figures this time; health says why.
    }
    this.checkHealth();
    this.#connections.set(this.#source.connections());
    this.#jobs.reset();
    for (const g of Object.values(this.#perQueue)) g.reset();
    if (!overview) return;
    for (const [label, row] of this.#rows(overview.queues)) {
      const l = { queue: label };
      for (const state of STATES) this.#jobs.set({ queue: label, state }, row.jobs[state]);
      const g = this.#perQueue;
      g.oldestReady.set(l, row.oldestReadyAgeMs / 1000);
      g.paused.set(l, row.paused);
      g.arrival.set(l, row.arrivalRate);
      g.completion.set(l, row.completionRate);
      g.failure.set(l, row.failureRate);
      g.workers.set(l, row.workers);
      if (row.utilisation !== null) g.utilisation.set(l, row.utilisation);
      if (row.meanWaitMs !== null) g.meanWait.set(l, row.meanWaitMs / 1000);
      if (row.maxLength !== null) g.maxLength.set(l, row.maxLength);
    }
  }

  /** One row per label: a queue with a label of its own as it is, the others summed under `_other`. */
  #rows(queues: readonly QueueOverview[]): Map<string, Row> {
    const rows = new Map<string, Row>();
    for (const q of queues) {
      const label = this.#labels.of(q.queue).queue;
      const row = rows.get(label);
      const m = q.model;
      if (!row) {
        rows.set(label, {
          jobs: { ...q.counts }, oldestReadyAgeMs: q.oldestReadyAgeMs, paused: q.paused ? 1 : 0,
          arrivalRate: m.arrivalRate, completionRate: m.completionRate, failureRate: m.failureRate, workers: m.workers,
          utilisation: label === OTHER_QUEUE ? null : m.utilisation, meanWaitMs: label === OTHER_QUEUE ? null : m.meanWaitMs,
          maxLength: label === OTHER_QUEUE ? null : q.maxLength,
        });
        continue;
      }
      for (const state of STATES) row.jobs[state] += q.counts[state];
      row.oldestReadyAgeMs = Math.max(row.oldestReadyAgeMs, q.oldestReadyAgeMs);
      row.paused += q.paused ? 1 : 0;
      row.arrivalRate += m.arrivalRate;
      row.completionRate += m.completionRate;
      row.failureRate += m.failureRate;
      row.workers += m.workers;
    }
    return rows;
  }
}
