import { withBounds } from './job-reads.ts';
import type { Clock } from '../core/clock.ts';
import { ModelSampler } from '../model/sampler.ts';
import type { ConsumerInfo, Overview, OverviewHistory } from '../model/overview.ts';
import type { Store } from '../store/store.ts';
import type { Dispatch } from './dispatch.ts';
import type { Inflight } from './inflight.ts';
import type { Telemetry } from './telemetry.ts';
import { ClusterView } from './cluster-view.ts';

export interface OverviewDeps {
  clock: Clock;
  store: Store;
  telemetry: Telemetry;
  inflight: Inflight;
  dispatch: Dispatch;
  /** This process's id in the store (its registration id on a shared store). */
  processId: string;
  /** A background error (publishing this process's snapshot failed). */
  onError(err: unknown): void;
  /** Whether this process leads the store's upkeep now. */
  leading(): boolean;
}

/**
 * What the overview of a Spool is made of: the queueing model sampled from the telemetry of every
 * process sharing the store (this one's from memory, the others' from the snapshots they publish,
 * see cluster-view.ts) and the store's stats, and the consumers (subscriptions and the jobs they hold).
 */
export class OverviewSource {
  readonly #d: OverviewDeps;
  readonly #openedAt = Date.now();
  readonly #cluster: ClusterView;
  #sampler: ModelSampler | null = null;
  #processSampler: ModelSampler | null = null;

  constructor(deps: OverviewDeps) {
    this.#d = deps;
    this.#cluster = new ClusterView({
      store: deps.store, clock: deps.clock, id: deps.processId, onError: deps.onError,
      local: { counts: () => deps.telemetry.snapshot(), slots: () => this.consumerSlots(), consumers: () => this.consumers(), leading: () => deps.leading() },
    });
  }

  /** Starts publishing this process's snapshot for the other processes' overviews (a store that keeps them). */
  startPublishing(): void {
    this.#cluster.start();
  }

  /** The overview, with the last hour when `history`; the first call starts the sampling. */
  async overview(history: boolean): Promise<Overview & { history?: OverviewHistory }> {
    const d = this.#d;
    const cluster = this.#cluster;
    this.#sampler ??= new ModelSampler({
      clock: d.clock,
      ...(cluster.shared ? { refresh: () => cluster.refresh() } : {}),
      counts: () => cluster.counts(),
      stats: async () => withBounds(d.store, await d.store.queueStats(null, d.clock.now())),
      slots: () => cluster.slots(),
      consumers: () => cluster.consumers(),
      processes: () => cluster.processes(),
      alerts: async () => (await d.store.alertRules()).map(({ id, queue, kind, threshold, forMs, state, since, value, evaluatedAt }) => ({ id, queue, kind, threshold, forMs, state, since, value, evaluatedAt })),
    });
    const overview = await this.#sampler.overview();
    return history ? { ...overview, history: this.#sampler.history() } : overview;
  }

  /**
   * The model of this process alone (its own counts, slots and consumers; the queues' stats of
   * the cluster overview, so no second store read): what the Prometheus metrics report, per
   * process, to be summed across instances.
   */
  async processOverview(): Promise<Overview> {
    const d = this.#d;
    this.#processSampler ??= new ModelSampler({
      clock: d.clock,
      counts: () => d.telemetry.snapshot(),
      stats: async () => (await this.overview(false)).queues,
      slots: () => this.consumerSlots(),
      consumers: () => this.consumers().map((c) => ({ ...c, process: this.#cluster.process })),
    });
    return this.#processSampler.overview();
  }

  /** Consumers of this process: a broker's clients by connection, in-process workers as one. */
  consumers(): Omit<ConsumerInfo, 'process'>[] {
    const busy = this.#d.inflight.busyBySubscriber();
    const byOwner = new Map<string, Omit<ConsumerInfo, 'process'>>();
    for (const { queue, sub } of this.#d.dispatch.subscriptions()) {
      const o = sub.handlers.owner;
      const id = o?.id ?? 'in-process';
      let info = byOwner.get(id);
      if (!info) {
        const now = this.#d.clock.now();
        info = o
          ? { id, client: o.client, tags: o.tags, address: o.address, queues: [], connectedAt: o.connectedAt, lastSeenAt: o.lastSeenAt() }
          : { id, client: 'workers in this process', tags: {}, address: '', queues: [], connectedAt: this.#openedAt, lastSeenAt: now };
        byOwner.set(id, info);
      }
      const inFlight = busy.get(sub) ?? 0;
      const entry = info.queues.find((q) => q.queue === queue);
      if (entry) {
        entry.slots += sub.credits + inFlight;
        entry.inFlight += inFlight;
      } else info.queues.push({ queue, slots: sub.credits + inFlight, inFlight });
    }
    return [...byOwner.values()];
  }

  /** Per queue, the worker slots subscribed to it (unspent credits plus the jobs held) and the jobs held. */
  consumerSlots(): Map<string, { slots: number; inFlight: number }> {
    const busy = this.#d.inflight.busyByQueue();
    const out = new Map<string, { slots: number; inFlight: number }>();
    for (const [queue, credits] of this.#d.dispatch.credits()) out.set(queue, { slots: credits + (busy.get(queue) ?? 0), inFlight: busy.get(queue) ?? 0 });
    for (const [queue, n] of busy) if (!out.has(queue)) out.set(queue, { slots: n, inFlight: n });
    return out;
  }

  /** Stops the sampling, if it started, and the publishing, after a last snapshot. */
  async stop(): Promise<void> {
    this.#sampler?.stop();
    this.#processSampler?.stop();
    await this.#cluster.stop();
  }
}
