import { EventEmitter } from 'node:events';
import type { TimerHandle } from '../core/clock.ts';
import { InvalidArgumentError, SpoolError, StaleLeaseError, UnrecoverableError } from '../core/errors.ts';
import { leaseKey, type Job, type JobState, type Lease } from '../core/job.ts';
import { checkLimit, describe } from '../core/limits.ts';
import { checkOptionKeys } from '../core/options.ts';
import type { ConsumerApi, Subscription } from './consumer.ts';

/** What a handler gets besides the job. */
export interface JobContext {
  /** Aborted when the lease is lost (cancelled, expired) or the worker shuts down past its deadline. Pass it to your I/O. */
  signal: AbortSignal;
  /** Extends the lease now (the worker also does it on its own while the handler runs). */
  extend(): Promise<void>;
}

/** A job handler. Its return value is stored as the job's result; a throw is a failed attempt. */
export type Handler<P = unknown, R = unknown> = (job: Job<P>, ctx: JobContext) => Promise<R> | R;

export interface WorkerOptions {
  /** Handlers run at once. Default 1. */
  concurrency?: number;
  /** How long `close()` waits for running handlers before releasing their jobs. Default 30 s. */
  shutdownTimeoutMs?: number;
}

/** Every key of {@link WorkerOptions}; others are refused. */
const WORKER_OPTIONS: Record<keyof WorkerOptions, true> = { concurrency: true, shutdownTimeoutMs: true };
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
  leaseMs: number;
}


/** The handler's result was refused before anything was written: the lease is still held. */
function isUnstorableResult(err: unknown): boolean {
  const e = err as { code?: unknown; field?: unknown } | null;
  return (e?.code === 'INVALID_ARGUMENT' || e?.code === 'PAYLOAD_TOO_LARGE') && e.field === 'result';
}

/**
 * Runs a handler for jobs pushed from one queue, `concurrency` at a time. While a
 * handler runs, the worker extends its lease every third of the lease length, so
 * only a dead or stalled process lets a lease expire. Events: `completed`
 * (job, result), `failed` (job, error, newState), `error` (err) for problems
 * outside handlers (an ack refused, the store down).
 */
export class Worker<P = unknown, R = unknown> extends EventEmitter {
  readonly queue: string;
  readonly concurrency: number;
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
        r.controller.abort(new WorkerShutdownError());
        releases.push(this.#api.release(r.lease).catch((err) => this.#emitError(err)));
      }
      this.#running.clear();
      await Promise.all(releases);
      while (this.#settling.size > 0) await Promise.allSettled([...this.#settling]);
      this.#resolveClosed();
    })();
    return this.#closePromise;
  }

  #run(job: Job<P>): void {
    const lease: Lease = { jobId: job.id, token: job.leaseToken };
    const leaseMs = Math.max(100, (job.leaseExpiresAt ?? 0) - this.#api.clock.now());
    const r: Running = { job, lease, controller: new AbortController(), lost: false, timer: null, leaseMs };
    this.#running.set(leaseKey(lease), r);
    this.#scheduleExtend(r);
    const ctx: JobContext = {
      signal: r.controller.signal,
      extend: async () => {
        await this.#extend(r);
      },
    };
    let outcome: Promise<R>;
    try {
      outcome = Promise.resolve(this.#handler(job, ctx));
    } catch (err) {
      outcome = Promise.reject(err);
    }
    const fail = (err: unknown) =>
      this.#api.nack(lease, err, { unrecoverable: err instanceof UnrecoverableError }).then((state: JobState) => void this.emit('failed', job, err, state));
    outcome.then(
      (result) => this.#finish(r, () => this.#api.ack(lease, result).then(
        () => void this.emit('completed', job, result),
        // A result no store can keep (too large, NaN, U+0000…) fails the attempt with the reason, instead of leaving the job leased.
        (err) => (isUnstorableResult(err) ? fail(err) : Promise.reject(err)),
      )),
      (err) => this.#finish(r, () => fail(err)),
    );
  }

  #finish(r: Running, settle: () => Promise<unknown>): void {
    if (r.timer) this.#api.clock.clearTimeout(r.timer);
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
