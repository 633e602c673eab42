import { EventEmitter } from 'node:events';
import type { TimerHandle } from '../core/clock.ts';
import { InvalidArgumentError, JobTimeoutError, SpoolError, StaleLeaseError, UnrecoverableError } from '../core/errors.ts';
import { leaseKey, type Job, type JobReport, type JobState, type Lease } from '../core/job.ts';
import { checkLimit, describe } from '../core/limits.ts';
import { checkOptionKeys } from '../core/options.ts';
import { checkResourceTags } from '../core/resource-tags.ts';
import { startProcessSpan, type ProcessSpan } from '../tracing/tracing.ts';
import type { ConsumerApi, Subscription } from './consumer.ts';

/** What a handler gets besides the job. */
export interface JobContext {
  /** Aborted when the lease is lost (cancelled, expired) or the worker shuts down past its deadline. Pass it to your I/O. */
  signal: AbortSignal;
  /** Extends the lease now (the worker also does it on its own while the handler runs). */
  extend(): Promise<void>;
}

/**
 * The job a handler runs: the stored job, plus what its handler may record while it runs. Both
 * are fenced by the lease: once it is lost (cancelled, expired, timed out) they reject with
 * StaleLeaseError and change nothing.
 */
export type RunningJob<P = unknown> = Job<P> & {
  /**
   * Stores `value` (any JSON value up to progressMaxBytes) as the job's `progress`, replacing the
   * last one; resolves once it is stored, then the worker emits `progress`. Calls of one job are
   * stored in order.
   */
  updateProgress(value: unknown): Promise<void>;
  /** Appends a line to the job's log (cut to jobLogLineMaxBytes; a job keeps its last jobLogMax lines). */
  log(line: string): Promise<void>;
};

/** A job handler. Its return value is stored as the job's result; a throw is a failed attempt. */
export type Handler<P = unknown, R = unknown> = (job: RunningJob<P>, ctx: JobContext) => Promise<R> | R;

export interface WorkerOptions {
  /** Handlers run at once. Default 1. */
  concurrency?: number;
  /** How long `close()` waits for running handlers before releasing their jobs. Default 30 s. */
  shutdownTimeoutMs?: number;
  /**
   * The resource tags this worker offers (e.g. `['gpu', 'region:eu']`): it takes jobs whose
   * `requires` are all among them, and jobs without `requires`. Each tag is 1–64 letters,
   * digits, '.', '_', ':' or '-', starting with a letter or digit; at most `resourceTagsMax`
   * (16). Left out: none, so it takes only jobs without `requires` (see docs/scheduling.md,
   * Resource-aware dispatch).
   */
  tags?: readonly string[];
}

/** Every key of {@link WorkerOptions}; others are refused. */
const WORKER_OPTIONS: Record<keyof WorkerOptions, true> = { concurrency: true, shutdownTimeoutMs: true, tags: true };
export const WORKER_OPTION_KEYS: readonly (keyof WorkerOptions)[] = Object.keys(WORKER_OPTIONS) as (keyof WorkerOptions)[];

/** The reason a handler's signal carries when the worker shuts down past its deadline. */
export class WorkerShutdownError extends SpoolError {
  constructor() {
    super('SHUTDOWN', 'the worker is shutting down; the job was released and will run again elsewhere');
  }
}

interface Running {
  job: Job;
  lease: Lease;
  controller: AbortController;
  /** The lease is gone: do not ack or nack. */
  lost: boolean;
  timer: TimerHandle | null;
  /** Fires when the attempt runs past the job's timeoutMs. */
  deadline: TimerHandle | null;
  leaseMs: number;
  /** Settled (or timed out): later outcomes of the handler are ignored. */
  done: boolean;
  /** The job's reports, chained so they are stored in the order they were made. */
  reports: Promise<unknown>;
  /** The attempt's `process` span while it runs; null when tracing is off, and once ended. */
  span: ProcessSpan | null;
}


/** The handler's result was refused before anything was written: the lease is still held. */
function isUnstorableResult(err: unknown): boolean {
  const e = err as { code?: unknown; field?: unknown } | null;
  return (e?.code === 'INVALID_ARGUMENT' || e?.code === 'PAYLOAD_TOO_LARGE') && e.field === 'result';
}

/**
 * Runs a handler for jobs pushed from one queue, `concurrency` at a time. While a
 * handler runs, the worker extends its lease every third of the lease length, so
 * only a dead or stalled process lets a lease expire, unless the job has a `timeoutMs`:
 * past it the handler's signal aborts with a JobTimeoutError, the attempt fails and the
 * slot is free (a handler that ignores its signal runs on, unobserved).
 *
 * Events: `completed` (job, result) once the ack is stored; `failed` (job, error, newState)
 * once the failed attempt is stored (newState: `scheduled` or `ready` for a retry, `dead`);
 * `progress` (job, value) once a progress value is stored; `error` (err) for problems outside
 * handlers (an ack refused, the store down).
 */
export class Worker<P = unknown, R = unknown> extends EventEmitter {
  readonly queue: string;
  readonly concurrency: number;
  /** Its resource tags, canonical (sorted, without repeats). */
  readonly tags: readonly string[];
  readonly #api: ConsumerApi;
  readonly #handler: Handler<P, R>;
  readonly #shutdownTimeoutMs: number;
  /** Running handlers by lease (job id and token): a job leased again while a stalled handler still runs is another entry. */
  readonly #running = new Map<string, Running>();
  readonly #settling = new Set<Promise<unknown>>();
  #sub: Subscription | null = null;
  #stopping = false;
  #closePromise: Promise<void> | null = null;
  #resolveClosed!: () => void;
  /** Resolves when the worker has stopped. */
  readonly closed: Promise<void>;
  #idleWaiters: (() => void)[] = [];
  /** A running worker keeps the process alive, as a socket would, until it is closed. */
  #keepAlive: NodeJS.Timeout | null = null;

  constructor(api: ConsumerApi, queue: string, handler: Handler<P, R>, options: WorkerOptions = {}) {
    super();
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `work needs a handler function (got ${describe(handler)})`);
    checkOptionKeys(options, WORKER_OPTION_KEYS, 'work');
    this.#api = api;
    this.queue = queue;
    this.#handler = handler;
    this.concurrency = checkLimit('concurrency', options.concurrency);
    this.#shutdownTimeoutMs = checkLimit('shutdownTimeoutMs', options.shutdownTimeoutMs);
    this.tags = options.tags === undefined ? [] : checkResourceTags(options.tags, 'tags');
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** Handlers running now. */
  get running(): number {
    return this.#running.size;
  }

  start(): void {
    if (this.#sub || this.#stopping) return;
    this.#keepAlive = setInterval(() => {}, 2 ** 30);
    this.#sub = this.#api.subscribe(this.queue, {
      tags: this.tags,
      capacity: this.concurrency,
      deliver: (jobs) => {
        for (const job of jobs) this.#run(job as Job<P>);
      },
      revoke: (lease, reason) => {
        const r = this.#running.get(leaseKey(lease));
        if (!r) return;
        r.lost = true;
        r.controller.abort(reason);
      },
    });
    this.#sub.addCredits(this.concurrency);
  }

  /**
   * Graceful stop: take no new jobs, wait up to `timeoutMs` (default shutdownTimeoutMs) for running
   * handlers, then abort the rest and release their jobs — released attempts are not counted.
   * Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    checkOptionKeys(options, ['timeoutMs'], 'worker.close');
    this.#closePromise ??= (async () => {
      this.#stopping = true;
      this.#sub?.close();
      if (this.#keepAlive) clearInterval(this.#keepAlive);
      const timeoutMs = options.timeoutMs === undefined ? this.#shutdownTimeoutMs : checkLimit('shutdownTimeoutMs', options.timeoutMs, 'timeoutMs');
      if (this.#running.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          this.#idleWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const releases: Promise<unknown>[] = [];
      for (const r of this.#running.values()) {
        r.lost = true; // whatever the handler does now, the job is no longer ours to settle
        if (r.timer) this.#api.clock.clearTimeout(r.timer);
        if (r.deadline) this.#api.clock.clearTimeout(r.deadline);
        const reason = new WorkerShutdownError();
        r.controller.abort(reason);
        this.#endSpan(r, { error: reason });
        releases.push(this.#api.release(r.lease).catch((err) => this.#emitError(err)));
      }
      this.#running.clear();
      await Promise.all(releases);
      while (this.#settling.size > 0) await Promise.allSettled([...this.#settling]);
      this.#resolveClosed();
    })();
    return this.#closePromise;
  }

  #run(stored: Job<P>): void {
    const lease: Lease = { jobId: stored.id, token: stored.leaseToken };
    const leaseMs = Math.max(100, (stored.leaseExpiresAt ?? 0) - this.#api.clock.now());
    const r: Running = {
      job: stored, lease, controller: new AbortController(), lost: false, timer: null, deadline: null, leaseMs, done: false, reports: Promise.resolve(),
      span: startProcessSpan(this.queue, stored),
    };
    const job = this.#runningJob(r, stored);
    this.#running.set(leaseKey(lease), r);
    this.#scheduleExtend(r);
    if (stored.timeoutMs > 0) r.deadline = this.#api.clock.setTimeout(() => this.#timeout(r), stored.timeoutMs);
    const ctx: JobContext = {
      signal: r.controller.signal,
      extend: async () => {
        await this.#extend(r);
      },
    };
    let outcome: Promise<R>;
    try {
      // Inside the attempt's span when there is one, so the handler's own spans are its children.
      outcome = Promise.resolve(r.span ? r.span.run(() => this.#handler(job, ctx)) : this.#handler(job, ctx));
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome.then(
      (result) => this.#finish(r, () => this.#api.ack(lease, result).then(
        () => void this.emit('completed', job, result),
        // A result no store can keep (too large, NaN, U+0000…) fails the attempt with the reason, instead of leaving the job leased.
        (err) => (isUnstorableResult(err) ? this.#fail(r, err) : Promise.reject(err)),
      )),
      (err) => this.#finish(r, () => this.#fail(r, err), { error: err }),
    );
  }

  /** The stored job with the methods its handler records progress and log lines with. */
  #runningJob(r: Running, stored: Job<P>): RunningJob<P> {
    const report = (what: JobReport): Promise<void> => {
      const sent = r.reports.then(() => this.#api.report(r.lease, what));
      r.reports = sent.catch(() => {});
      return sent;
    };
    // Not enumerable: the job stays a plain value for JSON and comparisons.
    return Object.defineProperties(stored, {
      updateProgress: {
        value: async (value: unknown) => {
          await report({ progress: value });
          stored.progress = value;
          this.emit('progress', stored, value);
        },
      },
      log: { value: (line: string) => report({ logs: [line] }) },
    }) as RunningJob<P>;
  }

  #fail(r: Running, err: unknown): Promise<void> {
    return this.#api.nack(r.lease, err, { unrecoverable: err instanceof UnrecoverableError }).then((state: JobState) => void this.emit('failed', r.job, err, state));
  }

  /** The attempt ran past its timeoutMs: abort the handler, stop extending, fail the attempt, free the slot. */
  #timeout(r: Running): void {
    r.deadline = null;
    if (r.done || r.lost) return;
    const err = new JobTimeoutError(r.job.id, r.job.timeoutMs);
    r.controller.abort(err);
    this.#finish(r, () => this.#fail(r, err), { error: err });
  }

  /** The attempt is over: end its span (ERROR with `failure`), settle it unless the lease is lost, free the slot. */
  #finish(r: Running, settle: () => Promise<unknown>, failure?: { error: unknown }): void {
    if (r.done) return; // timed out earlier: the handler's late outcome changes nothing
    r.done = true;
    this.#endSpan(r, failure);
    if (r.timer) this.#api.clock.clearTimeout(r.timer);
    if (r.deadline) this.#api.clock.clearTimeout(r.deadline);
    const mine = this.#running.get(leaseKey(r.lease)) === r;
    if (mine) this.#running.delete(leaseKey(r.lease));
    if (!r.lost) {
      const p = settle().catch((err) => this.#emitError(err));
      this.#settling.add(p);
      void p.finally(() => this.#settling.delete(p));
    }
    // The slot is free as soon as the handler is done; the ack is written in the background (group commit).
    if (!this.#stopping) this.#sub?.addCredits(1);
    if (this.#running.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  #endSpan(r: Running, failure?: { error: unknown }): void {
    r.span?.end(failure);
    r.span = null; // ended once: a handler that settles after a shutdown or timeout finds none
  }

  #scheduleExtend(r: Running): void {
    r.timer = this.#api.clock.setTimeout(() => {
      r.timer = null;
      if (r.lost || this.#running.get(leaseKey(r.lease)) !== r) return;
      void this.#extend(r).then(
        () => {
          if (!r.lost && this.#running.get(leaseKey(r.lease)) === r) this.#scheduleExtend(r);
        },
        () => {},
      );
    }, Math.max(50, Math.floor(r.leaseMs / 3)));
  }

  async #extend(r: Running): Promise<void> {
    try {
      await this.#api.extend(r.lease, r.leaseMs);
    } catch (err) {
      if (err instanceof StaleLeaseError) {
        r.lost = true;
        r.controller.abort(err);
      } else this.#emitError(err);
      throw err;
    }
  }

  #emitError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else if (this.#api.reportError) this.#api.reportError(err, `worker on ${this.queue}`);
    else if (!(err instanceof StaleLeaseError)) console.error(`spool worker (${this.queue}): ${(err as Error)?.message ?? err}`);
  }
}
