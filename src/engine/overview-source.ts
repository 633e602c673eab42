import type { Clock } from '../core/clock.ts';
import { ModelSampler } from '../model/sampler.ts';
import type { ConsumerInfo, Overview, OverviewHistory } from '../model/overview.ts';
import type { Store } from '../store/store.ts';
import type { Dispatch } from './dispatch.ts';
import type { Inflight } from './inflight.ts';
import type { Telemetry } from './telemetry.ts';

export interface OverviewDeps {
  clock: Clock;
  store: Store;
  telemetry: Telemetry;
  inflight: Inflight;
  dispatch: Dispatch;
}

/**
 * What the overview of a Spool is made of: the queueing model sampled from its telemetry and
 * the store's stats, and its consumers (subscriptions and the jobs they hold).
 */
export class OverviewSource {
  readonly #d: OverviewDeps;
  readonly #openedAt = Date.now();
  #sampler: ModelSampler | null = null;

  constructor(deps: OverviewDeps) {
    this.#d = deps;
  }

  /** The overview, with the last hour when `history`; the first call starts the sampling. */
  async overview(history: boolean): Promise<Overview & { history?: OverviewHistory }> {
    const d = this.#d;
    this.#sampler ??= new ModelSampler({
      clock: d.clock,
      counts: () => d.telemetry.snapshot(),
      stats: () => d.store.queueStats(null, d.clock.now()),
      slots: () => this.consumerSlots(),
      consumers: () => this.consumers(),
    });
    const overview = await this.#sampler.overview();
    return history ? { ...overview, history: this.#sampler.history() } : overview;
  }

  /** Consumers of this process: a broker's clients by connection, in-process workers as one. */
  consumers(): ConsumerInfo[] {
    const busy = this.#d.inflight.busyBySubscriber();
    const byOwner = new Map<string, ConsumerInfo>();
    for (const { queue, sub } of this.#d.dispatch.subscriptions()) {
      const o = sub.handlers.owner;
      const id = o?.id ?? 'in-process';
      let info = byOwner.get(id);
      if (!info) {
        const now = this.#d.clock.now();
        info = o
          ? { id, client: o.client, address: o.address, queues: [], connectedAt: o.connectedAt, lastSeenAt: o.lastSeenAt() }
          : { id, client: 'workers in this process', address: '', queues: [], connectedAt: this.#openedAt, lastSeenAt: now };
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

  /** Stops the sampling, if it started. */
  stop(): void {
    this.#sampler?.stop();
  }
}
