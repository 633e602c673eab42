/**
 * Prometheus metrics of a broker at `GET /metrics` (docs/operations.md, Metrics), in the
 * Prometheus text format. Each broker has a registry of its own, so two brokers in one
 * process never share or collide; the process's metrics are shared (metrics-process.ts).
 *
 * Counts and timings come from the engine's telemetry listener as they happen
 * (metrics-events.ts); jobs per state, the queueing model, health and connections are read at
 * scrape time (metrics-state.ts) from the overview, which the engine aggregates at most once a
 * second however often it is asked, so scrapes never hammer the store.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { ForbiddenError } from '../core/errors.ts';
import type { TelemetryListener } from '../engine/telemetry.ts';
import type { Principal } from './auth/scopes.ts';
import { EventMetrics } from './metrics-events.ts';
import { QueueLabels } from './metrics-labels.ts';
import { processMetrics } from './metrics-process.ts';
import { StateMetrics, type StateSource } from './metrics-state.ts';

export const METRICS_PATH = '/metrics';

/** How often health is looked at between scrapes, so that outages are counted even when nobody scrapes. */
const HEALTH_CHECK_MS = 1000;

/** What the metrics are read from: the engine (a Spool) and the broker's connections. */
export interface MetricsSource extends StateSource {
  readonly telemetry: { listen(listener: TelemetryListener): () => void };
}

export interface MetricsOptions {
  /** Who made a request, as the API's token check found. */
  who: (req: FastifyRequest) => Principal;
  /** Queues labelled by name (`metricsQueuesMax`); the rest are `_other`. */
  queuesMax: number;
}

/** Metrics span every queue, so reading them takes a token that reads every queue: `view` (or `admin`). */
export function mayReadMetrics(principal: Principal): boolean {
  return principal.can('admin') || principal.scopes.some((s) => s.kind === 'view');
}

/** A broker's metrics: the registry, the listener feeding it, and the text of a scrape. */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly #state: StateMetrics;
  readonly #unlisten: () => void;
  readonly #healthTimer: NodeJS.Timeout;
  #scrape: Promise<string> | null = null;

  constructor(source: MetricsSource, queuesMax: number) {
    const labels = new QueueLabels(queuesMax);
    this.#unlisten = source.telemetry.listen(new EventMetrics(this.registry, labels).listener());
    this.#state = new StateMetrics(this.registry, labels, source);
    this.#healthTimer = setInterval(() => this.#state.checkHealth(), HEALTH_CHECK_MS).unref();
    processMetrics();
  }

  /**
   * The exposition: the broker's metrics, then the process's. Scrapes that arrive while one is
   * being made share it, so the gauges are never reset under a scrape being written.
   */
  text(): Promise<string> {
    this.#scrape ??= (async () => {
      await this.#state.refresh();
      return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
    })().finally(() => (this.#scrape = null));
    return this.#scrape;
  }

  /** Stops listening to the engine; the counts stay readable. */
  close(): void {
    this.#unlisten();
    clearInterval(this.#healthTimer);
  }
}

/**
 * Serves `GET /metrics` on the API's Fastify instance (before it listens). Not an operation of
 * the API (src/api/operations.ts): a text route for Prometheus, outside the OpenAPI document.
 * When the broker checks tokens, its token check runs first (401 without a valid token), then
 * the token needs `view` or `admin` (403).
 */
export function registerMetrics(app: FastifyInstance, source: MetricsSource, options: MetricsOptions): BrokerMetrics {
  const metrics = new BrokerMetrics(source, options.queuesMax);
  app.get(METRICS_PATH, async (req, reply) => {
    if (!mayReadMetrics(options.who(req))) throw new ForbiddenError('view');
    const text = await metrics.text();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
  return metrics;
}
