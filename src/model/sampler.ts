import type { Clock, TimerHandle } from '../core/clock.ts';
import type { QueueStats } from '../core/job.ts';
import type { QueueCounts } from '../engine/telemetry.ts';
import type { AlertStatus, ConsumerInfo, Overview, OverviewHistory, ProcessStatus, QueueOverview } from './overview.ts';
import { queueModel, type CountsSample } from './queueing.ts';

/** What the sampler reads, once a second at most. */
export interface SamplerSource {
  readonly clock: Clock;
  /**
   * Optional: brings what counts(), slots() and consumers() return up to date (the engine reads
   * every process's snapshot from the store: one small read). Called before each sample; a
   * sample waits for it, and is skipped when it fails.
   */
  refresh?(): Promise<void>;
  /** Every queue's cumulative counts (the engine's: over every process sharing the store). */
  counts(): Map<string, QueueCounts>;
  /** Every queue's stats from the store (the one store read; cached by the sampler). */
  stats(): Promise<QueueStats[]>;
  /** Worker slots per queue (the engine's: of every live process). */
  slots(): Map<string, { slots: number; inFlight: number }>;
  /** Consumers (the engine's: every live process's clients and in-process workers). */
  consumers(): ConsumerInfo[];
  /** Optional: the alert rules and where they stand, read with the stats (none without it). */
  alerts?(): Promise<AlertStatus[]>;
  /** Optional: the live processes sharing the store (none without it). */
  processes?(): ProcessStatus[];
  /**
   * Optional: what a read's duration is measured on (ms), default the real monotonic clock. The
   * cache is stretched only by reads that really were slow: a test's manual clock may jump by
   * seconds while a fast read is in flight, and that must not stretch it.
   */
  stopwatch?(): number;
}

/** The sampler's bounds: every one a constant, stated here. */
export const SAMPLER = {
  /** Counts are read this often; it is also how long an overview is cached, at least. */
  tickMs: 1000,
  /**
   * The store's stats are read at most this share of the time: an overview is cached for
   * `readShare⁻¹` times as long as its read took, when that is more than `tickMs` (a count over a
   * million PostgreSQL rows takes most of a second; read every second it would keep a core busy).
   */
  readShare: 0.2,
  /** λ, μ and the service time are measured over this sliding window. */
  windowMs: 60_000,
  /** One history point per step… */
  stepMs: 10_000,
  /** …and this many points: an hour. */
  historyPoints: 360,
} as const;

const EMPTY: QueueCounts = { added: 0, claimed: 0, completed: 0, failed: 0, dead: 0, expired: 0, serviceMsSum: 0, serviceCount: 0, systemMsSum: 0, systemCount: 0, dropped: 0 };

/**
 * Turns the engine's counts into the live queueing model: reads them once a second into a
 * sliding window per queue, and the store's stats at most once a second (less often when that
 * read is slow: it never takes more than a fifth of the time), however many pages, `spool top`s
 * and scrapes ask (one read in flight, shared). Keeps an hour of history at one
 * point per 10 s for the charts. Memory: per queue, 61 samples and 360 points.
 */
export class ModelSampler {
  readonly #src: SamplerSource;
  readonly #windows = new Map<string, CountsSample[]>();
  readonly #history = new Map<string, { ready: number[]; active: number[]; arrivalRate: number[]; completionRate: number[]; failureRate: number[] }>();
  readonly #historyAt: number[] = [];
  #timer: TimerHandle | null = null;
  #running = false;
  #cached: { at: number; value: Overview } | null = null;
  /** How long the cached overview is trusted: tickMs, or longer after a slow read. */
  #ttlMs: number = SAMPLER.tickMs;
  #reading: Promise<Overview> | null = null;
  #lastStep = 0;
  #lastSampleAt: number | null = null;

  constructor(source: SamplerSource) {
    this.#src = source;
  }

  /** Starts sampling (idempotent); history begins now. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#update();
    const tick = async (): Promise<void> => {
      await this.#update();
      if (!this.#running) return;
      this.#timer = this.#src.clock.setTimeout(tick, SAMPLER.tickMs);
      if (this.#src.clock.now() - this.#lastStep >= SAMPLER.stepMs) void this.overview().catch(() => {}); // a history point
    };
    this.#timer = this.#src.clock.setTimeout(tick, SAMPLER.tickMs);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) this.#src.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One sample: at once, or after the source's refresh (none when it fails). */
  #update(): Promise<void> | undefined {
    if (!this.#src.refresh) return void this.#sample();
    return this.#src.refresh().then(
      () => (this.#running ? this.#sample() : undefined),
      () => {}, // the store is unreachable: no sample this tick (its outage is reported elsewhere)
    );
  }

  /** The overview, at most `tickMs` old. */
  overview(): Promise<Overview> {
    this.start();
    const now = this.#src.clock.now();
    if (this.#cached && now - this.#cached.at < this.#ttlMs) return Promise.resolve(this.#cached.value);
    this.#reading ??= this.#read().finally(() => (this.#reading = null));
    return this.#reading;
  }

  history(): OverviewHistory {
    return {
      stepMs: SAMPLER.stepMs,
      at: [...this.#historyAt],
      queues: Object.fromEntries([...this.#history].map(([q, h]) => [q, { ready: [...h.ready], active: [...h.active], arrivalRate: [...h.arrivalRate], completionRate: [...h.completionRate], failureRate: [...h.failureRate] }])),
    };
  }

  #sample(): void {
    const at = this.#src.clock.now();
    for (const [queue, counts] of this.#src.counts()) {
      let w = this.#windows.get(queue);
      if (!w) {
        // A queue first counted since the last sample started from zero then: its first adds count
        // towards λ. (At the very first sample there is no "then": today's counts are the baseline.)
        this.#windows.set(queue, (w = this.#lastSampleAt === null ? [] : [{ at: this.#lastSampleAt, counts: EMPTY }]));
      }
      w.push({ at, counts });
      // Keep the newest sample at or past the window's start, so the window is full once it can be.
      while (w.length > 2 && w[1]!.at <= at - SAMPLER.windowMs) w.shift();
    }
    this.#lastSampleAt = at;
  }

  async #read(): Promise<Overview> {
    const started = this.#src.clock.now(); // the engine's clock: the cache's age is measured on it
    const stopwatch = this.#src.stopwatch ?? (() => performance.now());
    const readStarted = stopwatch();
    const [stats, alerts] = await Promise.all([this.#src.stats(), this.#src.alerts?.() ?? []]);
    this.#ttlMs = Math.max(SAMPLER.tickMs, (stopwatch() - readStarted) / SAMPLER.readShare);
    const at = this.#src.clock.now();
    const slots = this.#src.slots();
    const counts = this.#src.counts();
    const queues: QueueOverview[] = stats.map((s) => {
      const window = this.#windows.get(s.queue);
      const last: CountsSample = { at, counts: counts.get(s.queue) ?? EMPTY };
      const first: CountsSample = window?.[0] ?? last;
      const model = queueModel(first, last, { ready: s.counts.ready, active: s.counts.active, workers: slots.get(s.queue)?.slots ?? 0 });
      return { ...s, model };
    });
    const value: Overview = { at, queues, consumers: this.#src.consumers(), processes: this.#src.processes?.() ?? [], alerts };
    this.#cached = { at: started, value }; // its age counts from when the store was asked: that is when its stats are of
    if (at - this.#lastStep >= SAMPLER.stepMs) this.#step(value);
    return value;
  }

  /** Appends one history point; queues that appear later get zeros before their first point. */
  #step(o: Overview): void {
    this.#lastStep = o.at;
    this.#historyAt.push(o.at);
    const points = this.#historyAt.length;
    for (const q of o.queues) {
      let h = this.#history.get(q.queue);
      if (!h) {
        const pad = (): number[] => new Array<number>(points - 1).fill(0);
        this.#history.set(q.queue, (h = { ready: pad(), active: pad(), arrivalRate: pad(), completionRate: pad(), failureRate: pad() }));
      }
      h.ready.push(q.counts.ready);
      h.active.push(q.counts.active);
      h.arrivalRate.push(q.model.arrivalRate);
      h.completionRate.push(q.model.completionRate);
      h.failureRate.push(q.model.failureRate);
    }
    for (const [queue, h] of this.#history) {
      if (h.ready.length < points) for (const series of Object.values(h)) series.push(0); // gone from the stats: a deleted queue
      if (this.#historyAt.length > SAMPLER.historyPoints) for (const series of Object.values(h)) series.shift();
      if (h.ready.every((v) => v === 0) && h.arrivalRate.every((v) => v === 0) && !o.queues.some((q) => q.queue === queue)) this.#history.delete(queue);
    }
    if (this.#historyAt.length > SAMPLER.historyPoints) this.#historyAt.shift();
  }
}
