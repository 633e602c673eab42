import type { Clock } from '../core/clock.ts';
import { StaleLeaseError, UnrecoverableError } from '../core/errors.ts';
import type { JobLogLine, JobReport, JobState, Lease } from '../core/job.ts';
import { checkLimit } from '../core/limits.ts';
import { backoffDelayMs, concurrencyRuleOf } from '../core/queue-config.ts';
import { encodeJson } from '../core/validate.ts';
import type { CompleteItem, ExtendItem, FailItem, LeaseResult, ReportItem, Store } from '../store/store.ts';
import { Batcher } from '../core/batcher.ts';
import type { Inflight } from './inflight.ts';
import type { Telemetry } from './telemetry.ts';
import { checkLease, checkReport, errorText } from './inputs.ts';
import type { EngineSettings } from './options.ts';
import type { QueueSettings } from './queue-settings.ts';

export interface LeaseDeps {
  store: Store;
  clock: Clock;
  settings: EngineSettings;
  inflight: Inflight;
  queues: QueueSettings;
  random: () => number;
  /** Jobs became ready in `queue`. */
  wake(queue: string): void;
  /** A job was scheduled for `at` (a retry after backoff). */
  noteDue(at: number): void;
  /** This process settled the job for good (completed or dead): waits on it read it again. */
  finished(jobId: string): void;
  /** The job that just finished is a child of the flow of `parentId` (docs/flows.md): settle it. */
  flowChildFinished(parentId: string): void;
  /** Shared stores: registers this process if it has not yet, and returns its id (extends take leases over for it). */
  owner(): Promise<string | undefined>;
  telemetry: Telemetry;
}

/**
 * What a holder of a lease can do: ack, nack, extend, release. Every call checks the
 * lease token in the store; acks, nacks and extends made in one tick are one store call.
 * A stale lease is refused with StaleLeaseError and changes nothing.
 */
export class LeaseOps {
  readonly #d: LeaseDeps;
  // Each item gets its own result: one refused by the store (LeaseMiss.error) fails alone.
  readonly #completes: Batcher<CompleteItem, LeaseResult>;
  readonly #fails: Batcher<FailItem, Awaited<ReturnType<Store['jobsFail']>>[number]>;
  readonly #extends: Batcher<ExtendItem, Awaited<ReturnType<Store['jobsExtend']>>[number]>;
  readonly #reports: Batcher<ReportItem, LeaseResult>;

  constructor(deps: LeaseDeps) {
    this.#d = deps;
    const { store, clock } = deps;
    this.#completes = new Batcher((items) => store.jobsComplete(items, clock.now()), 10_000);
    this.#fails = new Batcher((items) => store.jobsFail(items, clock.now()), 10_000);
    this.#extends = new Batcher((items) => store.jobsExtend(items, clock.now()), 10_000);
    this.#reports = new Batcher((items) => store.jobsReport(items, clock.now(), deps.settings.jobLogMax), 10_000);
  }

  async ack(lease: Lease, result?: unknown): Promise<void> {
    checkLease(lease);
    const json = result === undefined ? null : encodeJson(result, this.#d.settings.resultMaxBytes, 'result');
    const learn = this.#learn(lease);
    const r = await this.#completes.push(learn === undefined ? { lease, result: json } : { lease, result: json, learn });
    if (!r.ok && r.error) throw r.error; // the store refused this result: the lease is still held
    const delivery = this.#d.inflight.get(lease);
    this.#d.inflight.settled(lease);
    if (!r.ok) throw new StaleLeaseError(lease.jobId, lease.token, r.state, r.token);
    this.#d.finished(lease.jobId);
    if (r.flowParent !== undefined) this.#d.flowChildFinished(r.flowParent);
    if (delivery) {
      this.#settled(delivery, 'completed');
      this.#slotFreed(delivery.queue);
    }
  }

  /**
   * A job of `queue` left `active`: under per-key limits or group FIFO that may let a held job
   * start, so its consumers claim again (a worker's new credit can reach the claim before its
   * ack reaches the store). Queues without them pay a cached read.
   */
  #slotFreed(queue: string): void {
    const config = this.#d.queues.cached(queue);
    if (config && concurrencyRuleOf(config) !== null) this.#d.wake(queue);
  }

  /**
   * What an ack teaches the store: the run time of a job this process delivered, when its queue's
   * policy is sjf as last read (never a read of its own: an ack of another queue costs nothing).
   */
  #learn(lease: Lease): CompleteItem['learn'] {
    const d = this.#d.inflight.get(lease);
    if (!d) return undefined;
    const config = this.#d.queues.cached(d.queue);
    if (config?.policy !== 'sjf') return undefined;
    return { queue: d.queue, name: d.name, runMs: Math.max(0, this.#d.clock.now() - d.startedAt), weightPct: config.sjfLearnPct };
  }

  /** Counts an attempt this process delivered, with how long it ran and how long since its job was added. */
  #settled(d: { queue: string; startedAt: number; createdAt: number }, outcome: 'completed' | 'failed' | 'dead'): void {
    const now = this.#d.clock.now();
    this.#d.telemetry.settled(d.queue, outcome, Math.max(0, now - d.startedAt), Math.max(0, now - d.createdAt));
  }

  async nack(lease: Lease, error: unknown, options: { unrecoverable?: boolean } = {}): Promise<JobState> {
    checkLease(lease);
    const { inflight, store, clock, queues, settings } = this.#d;
    const now = clock.now();
    // The attempt (for the backoff) of a job this process delivered is known; others are read.
    let info: { attempt: number; queue: string } | undefined = inflight.get(lease);
    if (!info) {
      const [job] = await store.jobsGet([lease.jobId]);
      if (!job) throw new StaleLeaseError(lease.jobId, lease.token, null, null);
      info = job;
    }
    const config = await queues.get(info.queue);
    const item: FailItem = {
      lease,
      error: errorText(error, settings.errorMaxBytes),
      retryAt: now + backoffDelayMs(config.backoff, info.attempt, this.#d.random),
      unrecoverable: options.unrecoverable === true || error instanceof UnrecoverableError || (error as { code?: unknown })?.code === 'UNRECOVERABLE',
    };
    const r = await this.#fails.push(item);
    if (!r.ok && r.error) throw r.error; // the store refused this item: the lease is still held
    const delivery = inflight.get(lease);
    inflight.settled(lease);
    if (!r.ok) throw new StaleLeaseError(lease.jobId, lease.token, r.state, r.token);
    if (delivery) this.#settled(delivery, r.state === 'dead' ? 'dead' : 'failed');
    else this.#d.telemetry.settled(info.queue, r.state === 'dead' ? 'dead' : 'failed', null, null);
    if (r.state === 'dead') this.#d.finished(lease.jobId);
    if (r.flowParent !== undefined) this.#d.flowChildFinished(r.flowParent);
    if (r.state === 'ready') this.#d.wake(info.queue);
    else this.#slotFreed(info.queue);
    if (r.state === 'scheduled') this.#d.noteDue(item.retryAt);
    return r.state;
  }

  async extend(lease: Lease, leaseMs?: number): Promise<number> {
    checkLease(lease);
    let ms = leaseMs;
    if (ms === undefined) {
      let queue = this.#d.inflight.get(lease)?.queue;
      if (!queue) {
        const [job] = await this.#d.store.jobsGet([lease.jobId]);
        // A lease on a job that no longer exists (a queue deleted with force) is stale, as an ack of it is.
        if (!job) throw new StaleLeaseError(lease.jobId, lease.token, null, null);
        queue = job.queue;
      }
      ms = (await this.#d.queues.get(queue)).visibilityTimeoutMs;
    } else checkLimit('visibilityTimeoutMs', ms, 'leaseMs');
    const workerId = await this.#d.owner();
    const r = await this.#extends.push({ lease, leaseMs: ms, ...(workerId === undefined ? {} : { workerId }) });
    if (!r.ok) {
      if (r.error) throw r.error; // the store refused this item: the lease is still held
      this.#d.inflight.settled(lease);
      throw new StaleLeaseError(lease.jobId, lease.token, r.state, r.token);
    }
    return r.leaseExpiresAt;
  }

  /**
   * Stores a running job's progress and appends log lines, if the lease is still held.
   * @throws StaleLeaseError when it is not (nothing is written); InvalidArgumentError or PayloadTooLargeError for a bad report.
   */
  async report(lease: Lease, report: JobReport): Promise<void> {
    checkLease(lease);
    const { progress, lines } = checkReport(report, this.#d.settings);
    let logs: JobLogLine[] | undefined;
    if (lines.length > 0) {
      // Each line names the attempt that wrote it: known for a job this process delivered, read otherwise.
      let attempt = this.#d.inflight.get(lease)?.attempt;
      if (attempt === undefined) {
        const [job] = await this.#d.store.jobsGet([lease.jobId]);
        if (!job) throw new StaleLeaseError(lease.jobId, lease.token, null, null);
        attempt = job.attempt;
      }
      const at = this.#d.clock.now();
      logs = lines.map((line) => ({ at, attempt, line }));
    }
    const r = await this.#reports.push({ lease, ...(progress === undefined ? {} : { progress }), ...(logs ? { logs } : {}) });
    if (!r.ok) {
      if (r.error) throw r.error; // the store refused this item: the lease is still held
      throw new StaleLeaseError(lease.jobId, lease.token, r.state, r.token);
    }
  }

  /**
   * Brings forward the end of leases whose holder is gone (see Store.jobsShorten): each ends by
   * `until` unless it was settled, taken back, or extended since its holder last set `expiresAt`.
   * Returns how many were shortened; none on a store that cannot (the leases then run their course).
   */
  async shorten(items: readonly { lease: Lease; expiresAt: number }[], until: number): Promise<number> {
    const { store, clock } = this.#d;
    const due = items.filter((i) => i.expiresAt > until);
    if (!store.jobsShorten || due.length === 0) return 0;
    const done = await store.jobsShorten(due.map((i) => ({ lease: i.lease, expiresAt: i.expiresAt, until })), clock.now());
    return done.filter(Boolean).length;
  }

  async release(lease: Lease): Promise<void> {
    checkLease(lease);
    const [r] = await this.#d.store.jobsRelease([lease], this.#d.clock.now());
    const queue = this.#d.inflight.get(lease)?.queue;
    this.#d.inflight.settled(lease);
    if (!r || !r.ok) throw new StaleLeaseError(lease.jobId, lease.token, r?.state ?? null, r && !r.ok ? r.token : null);
    if (queue) this.#d.wake(queue);
  }
}
