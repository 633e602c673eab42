import { systemClock, type Clock } from '../core/clock.ts';
import { ClosedError, InvalidArgumentError, InvalidStateError, JobNotFoundError, StaleLeaseError, StoreUnavailableError, UnrecoverableError } from '../core/errors.ts';
import { isJobId } from '../core/ids.ts';
import type { Job, JobState, Lease, QueueStats } from '../core/job.ts';
import { JOB_STATES } from '../core/job.ts';
import { checkLimit, describe } from '../core/limits.ts';
import { backoffDelayMs, defaultQueueConfig, resolveQueueConfig, type QueueConfig, type QueueConfigInput } from '../core/queue-config.ts';
import { checkAddOptions, checkQueueName, encodeJson, type AddOptions } from '../core/validate.ts';
import { newJobId } from '../core/ids.ts';
import type { CompleteItem, ExtendItem, FailItem, LeaseResult, NewJobRow, ReapedJob, Store } from '../store/store.ts';
import type { SqliteDurability } from '../store/sqlite/sqlite-store.ts';
import type { ConsumerApi, Subscription, SubscriptionHandlers } from '../worker/consumer.ts';
import { Worker, type Handler, type WorkerOptions } from '../worker/worker.ts';
import { Batcher } from './batcher.ts';
import { QueueDispatcher, type CreditSubscription } from './dispatcher.ts';
import { Health, type HealthStatus } from './health.ts';
import { Maintenance } from './maintenance.ts';
import { Membership } from './membership.ts';
import { openStore } from './open-store.ts';
import { Queue } from './queue.ts';

/** Options for {@link Spool.open}. Every number is validated against docs/configuration.md. */
export interface OpenOptions {
  /**
   * Where jobs live: a data directory (default `./spool-data`), a `.db` file, `sqlite:<path>`,
   * `memory` (the production engine on a private in-memory database, for tests), or a Store instance.
   */
  store?: string | Store;
  /** What an acknowledged write survives; see {@link SqliteDurability}. Default `fsync`. */
  durability?: SqliteDurability;
  /** Time source; tests pass a ManualClock. */
  clock?: Clock;
  /** Run the lease reaper, delay promoter and retention cleanup in this process. Default true. */
  maintenance?: boolean;
  payloadMaxBytes?: number;
  resultMaxBytes?: number;
  errorMaxBytes?: number;
  addManyMax?: number;
  claimBatchMax?: number;
  maintenanceIntervalMs?: number;
  pollIntervalMs?: number;
  completedRetentionMs?: number;
  deadRetentionMs?: number;
  cancelledRetentionMs?: number;
  busyTimeoutMs?: number;
  historyMax?: number;
  /** PostgreSQL store: the schema holding Spool's tables. Default `spool`. */
  schema?: string;
  /** PostgreSQL store: wake consumers in other processes with LISTEN/NOTIFY (default true). Set false behind a transaction-mode pooler; consumers then poll. */
  notify?: boolean;
  /** Called with errors from background work (a failed claim, reap or cleanup). Default: console.error, at most once per kind per minute. */
  onError?: (err: unknown, during: string) => void;
  /** Random source for backoff jitter, injectable for tests. */
  random?: () => number;
  heartbeatIntervalMs?: number;
  leaderLeaseMs?: number;
  /** Where one-line notices go (health changes). Default console.error. */
  log?: (line: string) => void;
}

/** One item of {@link Queue.addMany}. */
export interface AddItem<P = unknown> extends AddOptions {
  payload: P;
}

/** Options for {@link Spool.list}. */
export interface ListOptions {
  state?: JobState;
  /** Cursor: the last id of the previous page. */
  after?: string;
  limit?: number;
}

const STALE_LOG_INTERVAL_MS = 60_000;
/** After recovering from an outage, errors left over from dead connections are not news. */
const OUTAGE_AFTERMATH_MS = 5000;
/** Jobs deleted per statement by purge: bounded, so a huge queue does not make one huge transaction. */
const PURGE_BATCH = 10_000;
/** How often the leader may vacuum the hot table (it does only when dead rows piled up). */
const VACUUM_INTERVAL_MS = 5000;

/**
 * An embedded Spool: the engine over a store, in this process.
 * @example
 * const spool = await Spool.open();               // ./spool-data/spool.db
 * await spool.queue('emails').add({ to: 'a@example.com' });
 * spool.work('emails', async (job) => { await send(job.payload); }, { concurrency: 8 });
 */
export class Spool implements ConsumerApi {
  readonly clock: Clock;
  readonly store: Store;
  readonly #limits: {
    payloadMaxBytes: number; resultMaxBytes: number; errorMaxBytes: number; addManyMax: number; claimBatchMax: number;
    pollIntervalMs: number; retention: { completed: number; dead: number; cancelled: number };
  };
  readonly #random: () => number;
  readonly #onError: (err: unknown, during: string) => void;
  readonly #customOnError: boolean;
  readonly #openedAt: number;
  /** When a failed background call began, so failures left over from before a recovery can be told apart. */
  readonly #callStarted = new WeakMap<object, number>();
  readonly #configs = new Map<string, QueueConfig>();
  readonly #paused = new Map<string, boolean>();
  readonly #configLoads = new Map<string, Promise<QueueConfig>>();
  readonly #dispatchers = new Map<string, QueueDispatcher>();
  /** Jobs delivered by this process and not yet settled: lets cancels and reaps reach their handler. */
  readonly #inflight = new Map<string, { token: number; attempt: number; queue: string; sub: CreditSubscription | null }>();
  readonly #workers = new Set<Worker<any>>();
  /** Releases of jobs claimed for subscribers that had gone; close() waits for them. */
  readonly #givingBack = new Set<Promise<unknown>>();
  readonly #maintenance: Maintenance | null;
  readonly #inserts: Batcher<NewJobRow, void>;
  readonly #completes: Batcher<CompleteItem, LeaseResult>;
  readonly #fails: Batcher<FailItem, Awaited<ReturnType<Store['jobsFail']>>[number]>;
  readonly #extends: Batcher<ExtendItem, ReturnType<Store['jobsExtend']> extends Promise<(infer R)[]> ? R : never>;
  readonly #health: Health;
  readonly #membership: Membership | null;
  readonly #leaderLeaseMs: number;
  #pollTimer: ReturnType<Clock['setTimeout']> | null = null;
  #vacuuming: Promise<unknown> | null = null;
  #lastVacuumAt = 0;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(store: Store, options: OpenOptions) {
    this.store = store;
    this.clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#onError = options.onError ?? rateLimitedConsoleError();
    this.#customOnError = options.onError !== undefined;
    this.#openedAt = this.clock.now();
    this.#health = new Health(this.clock, options.log ?? ((line) => console.error(line)));
    this.#leaderLeaseMs = checkLimit('leaderLeaseMs', options.leaderLeaseMs);
    // Processes that consume from a shared store register (lazily, at their first claim) and send heartbeats.
    this.#membership =
      store.workerRegister
        ? new Membership({
            store,
            clock: this.clock,
            health: this.#health,
            intervalMs: checkLimit('heartbeatIntervalMs', options.heartbeatIntervalMs),
            onError: (err, started) => {
              this.#tagStart(err, started);
              this.reportError(err, 'heartbeat');
            },
            onRecovered: () => this.#wakeAll(),
          })
        : null;
    this.#limits = {
      payloadMaxBytes: checkLimit('payloadMaxBytes', options.payloadMaxBytes),
      resultMaxBytes: checkLimit('resultMaxBytes', options.resultMaxBytes),
      errorMaxBytes: checkLimit('errorMaxBytes', options.errorMaxBytes),
      addManyMax: checkLimit('addManyMax', options.addManyMax),
      claimBatchMax: checkLimit('claimBatchMax', options.claimBatchMax),
      pollIntervalMs: checkLimit('pollIntervalMs', options.pollIntervalMs),
      retention: {
        completed: checkLimit('completedRetentionMs', options.completedRetentionMs),
        dead: checkLimit('deadRetentionMs', options.deadRetentionMs),
        cancelled: checkLimit('cancelledRetentionMs', options.cancelledRetentionMs),
      },
    };
    const maintenanceIntervalMs = checkLimit('maintenanceIntervalMs', options.maintenanceIntervalMs);
    store.onReady?.((queue) => this.#dispatchers.get(queue)?.wake());
    this.#inserts = new Batcher(async (rows) => {
      await this.store.jobsInsertMany(rows);
      this.#markHealthy();
      this.#afterInsert(rows);
      return new Array(rows.length);
    }, 10_000);
    this.#completes = new Batcher((items) => this.store.jobsComplete(items, this.clock.now()), 10_000);
    this.#fails = new Batcher((items) => this.store.jobsFail(items, this.clock.now()), 10_000);
    this.#extends = new Batcher((items) => this.store.jobsExtend(items, this.clock.now()), 10_000);
    this.#maintenance =
      options.maintenance === false
        ? null
        : new Maintenance(
            this.clock,
            {
              tick: (withCleanup) => this.#maintenanceTick(withCleanup),
              nextDueAt: () => this.store.jobsNextDueAt(),
              promoteDue: () => this.#promoteDue(),
              onError: (err) => this.reportError(err, 'maintenance'),
            },
            maintenanceIntervalMs,
          );
  }

  /**
   * Opens a Spool on a store (default: SQLite in `./spool-data`). Validates every option first.
   * @throws InvalidArgumentError for a bad option; SchemaTooNewError if a newer Spool wrote the database.
   */
  static async open(options: OpenOptions = {}): Promise<Spool> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', `options must be an object (got ${describe(options)})`);
    // Validate the engine's own limits before touching the disk.
    for (const key of ['payloadMaxBytes', 'resultMaxBytes', 'errorMaxBytes', 'addManyMax', 'claimBatchMax', 'maintenanceIntervalMs', 'pollIntervalMs',
      'completedRetentionMs', 'deadRetentionMs', 'cancelledRetentionMs', 'busyTimeoutMs', 'historyMax', 'heartbeatIntervalMs', 'leaderLeaseMs'] as const) {
      checkLimit(key, options[key]);
    }
    if (options.durability !== undefined && options.durability !== 'fsync' && options.durability !== 'no-fsync') {
      throw new InvalidArgumentError('durability', `durability must be 'fsync' or 'no-fsync' (got ${describe(options.durability)})`);
    }
    const store =
      typeof options.store === 'object' && options.store !== null
        ? options.store
        : await openStore(options.store, {
            durability: options.durability, busyTimeoutMs: options.busyTimeoutMs, historyMax: options.historyMax, schema: options.schema, notify: options.notify,
          });
    const spool = new Spool(store, options);
    spool.#maintenance?.start();
    return spool;
  }

  /** A handle on a queue. Cheap: make as many as you like. @throws InvalidArgumentError for a bad name. */
  queue<P = unknown>(name: string): Queue<P> {
    return new Queue<P>(this, checkQueueName(name));
  }

  /** Stores settings for a queue and returns the full, validated settings. */
  async configureQueue(name: string, input: QueueConfigInput): Promise<QueueConfig> {
    this.#assertOpen();
    checkQueueName(name);
    const current = await this.queueConfig(name);
    const next = resolveQueueConfig(input, current);
    await this.store.queueUpsert(name, next, this.clock.now());
    this.#configs.set(name, next);
    return next;
  }

  /** The queue's settings (defaults if it was never configured). */
  async queueConfig(name: string): Promise<QueueConfig> {
    const cached = this.#configs.get(name);
    if (cached) return cached;
    let load = this.#configLoads.get(name);
    if (!load) {
      load = (async () => {
        const stored = await this.store.queueGet(name);
        let config: QueueConfig;
        if (stored) {
          config = resolveQueueConfig(stored.config, defaultQueueConfig());
          this.#paused.set(name, stored.paused);
        } else {
          config = defaultQueueConfig();
          await this.store.queueUpsert(name, config, this.clock.now());
        }
        this.#configs.set(name, config);
        return config;
      })().finally(() => this.#configLoads.delete(name));
      this.#configLoads.set(name, load);
    }
    return load;
  }

  /** Adds one job. Resolves once the job is durable (per the durability setting). */
  async add<P>(queue: string, payload: P, options?: AddOptions): Promise<Job<P>> {
    const [job] = await this.addMany<P>(queue, [{ ...(options ?? {}), payload }], 'add');
    return job!;
  }

  /** Adds many jobs atomically: all are stored, or none. */
  async addMany<P>(queue: string, items: readonly AddItem<P>[], _caller = 'addMany'): Promise<Job<P>[]> {
    this.#assertOpen();
    checkQueueName(queue);
    if (!Array.isArray(items)) throw new InvalidArgumentError('items', `addMany takes an array of { payload, ...options } (got ${describe(items)})`);
    if (items.length > this.#limits.addManyMax) {
      throw new InvalidArgumentError('items', `addMany got ${items.length} jobs, over the addManyMax limit of ${this.#limits.addManyMax}; split the batch`);
    }
    const now = this.clock.now();
    // One pass, validating everything before anything is written; rows and returned views share the payload.
    const rows: NewJobRow[] = new Array(items.length);
    const jobs: Job<P>[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (typeof item !== 'object' || item === null) throw new InvalidArgumentError(`items[${i}]`, `items[${i}] must be an object { payload, ...options }`);
      let row: NewJobRow;
      try {
        const { payload, tx: _tx, ...rest } = item;
        const options = checkAddOptions(rest, now);
        row = {
          id: newJobId(now),
          queue,
          name: options.name,
          payload: encodeJson(payload, this.#limits.payloadMaxBytes),
          priority: options.priority,
          runAt: options.runAt,
          state: options.runAt > now ? 'scheduled' : 'ready',
          maxAttempts: options.maxAttempts ?? 0, // 0: the queue's default, filled in below
          maxStalls: 0,
          createdAt: now,
        };
      } catch (err) {
        if (items.length > 1 && err instanceof Error) err.message = `items[${i}]: ${err.message}`;
        throw err;
      }
      rows[i] = row;
      jobs[i] = newJobView(row, item.payload);
    }
    // Only valid input reaches here: loading (and, for a new queue, creating) its settings is the first write.
    const config = this.#configs.get(queue) ?? (await this.queueConfig(queue));
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.maxAttempts === 0) row.maxAttempts = jobs[i]!.maxAttempts = config.maxAttempts;
      row.maxStalls = jobs[i]!.maxStalls = config.maxStalls;
    }
    const tx = items.length > 0 ? items[0]!.tx : undefined;
    if (items.some((item) => item.tx !== tx)) throw new InvalidArgumentError('tx', 'every item of one addMany must use the same tx');
    if (tx !== undefined) {
      if (!this.store.jobsInsertManyInTransaction) {
        throw new InvalidArgumentError('tx', 'adding inside your own transaction needs the PostgreSQL store');
      }
      // Written in the caller's transaction; consumers wake on its commit (NOTIFY) or by polling.
      await this.store.jobsInsertManyInTransaction(tx, rows);
    } else if (rows.length === 1) await this.#inserts.push(rows[0]!);
    else if (rows.length > 0) {
      await this.store.jobsInsertMany(rows);
      this.#afterInsert(rows);
    }
    return jobs;
  }

  /** The job with this id. @throws JobNotFoundError */
  async get<P = unknown>(id: string): Promise<Job<P>> {
    this.#assertOpen();
    const [job] = await this.store.jobsGet([checkJobId(id)]);
    if (!job) throw new JobNotFoundError(id);
    return job as Job<P>;
  }

  /** Lists a queue's jobs in id (creation) order, optionally in one state, a page at a time. */
  async list(queue: string, options: ListOptions = {}): Promise<Job[]> {
    this.#assertOpen();
    checkQueueName(queue);
    if (options.state !== undefined && !JOB_STATES.includes(options.state)) {
      throw new InvalidArgumentError('state', `state must be one of ${JOB_STATES.join(', ')} (got ${describe(options.state)})`);
    }
    if (options.after !== undefined) checkJobId(options.after, 'after');
    const limit = checkLimit('listLimit', options.limit, 'limit');
    return this.store.jobsList({ queue, state: options.state, after: options.after, limit });
  }

  /**
   * Cancels a job that has not finished. A running handler is aborted through its signal.
   * @throws JobNotFoundError; InvalidStateError if the job already finished.
   */
  async cancel(id: string): Promise<void> {
    this.#assertOpen();
    const [r] = await this.store.jobsCancel([checkJobId(id)], this.clock.now());
    if (!r || !r.found) throw new JobNotFoundError(id);
    if (!r.cancelled) throw new InvalidStateError(id, r.previous, `job ${id} is ${r.previous}; finished jobs cannot be cancelled`);
    if (r.previous === 'active') this.#revoke(id, new StaleLeaseError(id, 0, 'cancelled', null));
  }

  /**
   * Runs a dead or cancelled job again with fresh attempts, or a scheduled job now.
   * @throws JobNotFoundError; InvalidStateError for completed, ready or active jobs.
   */
  async retry(id: string): Promise<void> {
    this.#assertOpen();
    const [r] = await this.store.jobsRetry([checkJobId(id)], this.clock.now());
    if (!r || !r.found) throw new JobNotFoundError(id);
    if (!r.retried) {
      const why = r.previous === 'completed' ? 'completed jobs are final; add a new job to run it again' : `it is already ${r.previous}`;
      throw new InvalidStateError(id, r.previous, `cannot retry job ${id}: ${why}`);
    }
    this.#dispatchers.get(r.queue)?.wake();
  }

  /** Counts per state and oldest ready age, for one queue or all. */
  async stats(queue?: string): Promise<QueueStats[]> {
    this.#assertOpen();
    if (queue !== undefined) checkQueueName(queue);
    return this.store.queueStats(queue ?? null, this.clock.now());
  }

  /**
   * Deletes every waiting (ready or scheduled) job of a queue, in bounded batches; jobs
   * being worked on and finished jobs stay. Returns how many were deleted.
   */
  async purge(queue: string): Promise<number> {
    this.#assertOpen();
    checkQueueName(queue);
    let total = 0;
    for (;;) {
      const n = await this.store.jobsPurge({ queue, limit: PURGE_BATCH });
      total += n;
      if (n < PURGE_BATCH) return total;
    }
  }

  /** Stops (or resumes) deliveries from a queue. Adds are still accepted. */
  async setPaused(queue: string, paused: boolean): Promise<void> {
    this.#assertOpen();
    await this.queueConfig(checkQueueName(queue));
    await this.store.queueSetPaused(queue, paused, this.clock.now());
    this.#paused.set(queue, paused);
    if (!paused) this.#dispatchers.get(queue)?.wake();
  }

  /** Pull API: leases up to `limit` ready jobs now. Prefer {@link work} or {@link subscribe}, which are pushed jobs. */
  async claim(queue: string, limit = 1): Promise<Job[]> {
    this.#assertOpen();
    checkQueueName(queue);
    checkLimit('claimBatchMax', limit, 'limit');
    await this.queueConfig(queue); // loads the paused flag too
    if (this.#paused.get(queue) === true) return [];
    const jobs = await this.#claim(queue, limit);
    for (const job of jobs) this.#inflight.set(job.id, { token: job.leaseToken, attempt: job.attempt, queue, sub: null });
    return jobs;
  }

  subscribe(queue: string, handlers: SubscriptionHandlers): Subscription {
    this.#assertOpen();
    checkQueueName(queue);
    return this.#dispatcher(queue).subscribe(handlers);
  }

  async ack(lease: Lease, result?: unknown): Promise<void> {
    this.#assertOpen();
    checkLease(lease);
    const json = result === undefined ? null : encodeJson(result, this.#limits.resultMaxBytes, 'result');
    const r = await this.#completes.push({ lease, result: json });
    this.#settled(lease);
    if (!r.ok) throw new StaleLeaseError(lease.jobId, lease.token, r.state, r.token);
  }

  async nack(lease: Lease, error: unknown, options: { unrecoverable?: boolean } = {}): Promise<JobState> {
    this.#assertOpen();
    checkLease(lease);
    const now = this.clock.now();
    let info = this.#inflight.get(lease.jobId);
    if (!info || info.token !== lease.token) {
      const [job] = await this.store.jobsGet([lease.jobId]);
      if (!job) throw new StaleLeaseError(lease.jobId, lease.token, null, null);
      info = { token: job.leaseToken, attempt: job.attempt, queue: job.queue, sub: null };
    }
    const config = await this.queueConfig(info.queue);
    const unrecoverable = options.unrecoverable === true || error instanceof UnrecoverableError || (error as { code?: unknown })?.code === 'UNRECOVERABLE';
    const item: FailItem = {
      lease,
      error: errorText(error, this.#limits.errorMaxBytes),
      retryAt: now + backoffDelayMs(config.backoff, info.attempt, this.#random),
      unrecoverable,
    };
    const r = await this.#fails.push(item); // nacks of one tick share one store call
    this.#settled(lease);
    if (!r.ok) throw new StaleLeaseError(lease.jobId, lease.token, r.state, r.token);
    if (r.state === 'ready') this.#dispatchers.get(info.queue)?.wake();
    if (r.state === 'scheduled') this.#maintenance?.noteDue(item.retryAt);
    return r.state;
  }

  async extend(lease: Lease, leaseMs?: number): Promise<number> {
    this.#assertOpen();
    checkLease(lease);
    let ms = leaseMs;
    if (ms === undefined) {
      const queue = this.#inflight.get(lease.jobId)?.queue ?? (await this.get(lease.jobId)).queue;
      ms = (await this.queueConfig(queue)).visibilityTimeoutMs;
    } else checkLimit('visibilityTimeoutMs', ms, 'leaseMs');
    const r = await this.#extends.push({ lease, leaseMs: ms });
    if (!r.ok) {
      this.#settled(lease);
      throw new StaleLeaseError(lease.jobId, lease.token, r.state, r.token);
    }
    return r.leaseExpiresAt;
  }

  async release(lease: Lease): Promise<void> {
    checkLease(lease);
    const [r] = await this.store.jobsRelease([lease], this.clock.now());
    const info = this.#inflight.get(lease.jobId);
    this.#settled(lease);
    if (!r || !r.ok) throw new StaleLeaseError(lease.jobId, lease.token, r?.state ?? null, r && !r.ok ? r.token : null);
    if (info) this.#dispatchers.get(info.queue)?.wake();
  }

  /**
   * Runs `handler` for each job of `queue`, up to `concurrency` at once.
   * @example
   * const worker = spool.work('emails', async (job, { signal }) => send(job.payload, { signal }), { concurrency: 16 });
   * await worker.close(); // graceful: waits for running jobs, releases the rest at the deadline
   */
  work<P = unknown, R = unknown>(queue: string, handler: Handler<P, R>, options: WorkerOptions = {}): Worker<P, R> {
    this.#assertOpen();
    checkQueueName(queue);
    const worker = new Worker<P, R>(this, queue, handler, options);
    this.#workers.add(worker);
    void worker.closed.then(() => this.#workers.delete(worker));
    worker.start();
    this.#ensurePolling();
    return worker;
  }

  /** One pass of maintenance now: reap expired leases, promote due jobs. */
  async runMaintenance(): Promise<void> {
    if (this.#maintenance) await this.#maintenance.exclusive(() => this.#maintenanceTick());
    else await this.#maintenanceTick();
  }

  /** Deletes finished jobs past their retention now; returns how many. */
  async cleanup(): Promise<number> {
    return this.#deleteFinished(this.store);
  }

  async #deleteFinished(store: Store): Promise<number> {
    const now = this.clock.now();
    const r = this.#limits.retention;
    let total = 0;
    for (;;) {
      const n = await store.jobsDeleteFinished({ before: { completed: now - r.completed, dead: now - r.dead, cancelled: now - r.cancelled }, limit: 1000 });
      total += n;
      if (n < 1000) return total;
    }
  }

  /** Stops workers gracefully, stops background work, and closes the store. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#workers].map((w) => w.close()));
      // A claim still in flight hands its jobs back (their subscribers are gone) before the store closes.
      await Promise.all([...this.#dispatchers.values()].map((d) => d.idle()));
      await Promise.allSettled([...this.#givingBack]);
      this.#closed = true;
      if (this.#pollTimer) this.clock.clearTimeout(this.#pollTimer);
      await this.#maintenance?.stop();
      await this.#vacuuming;
      if (this.#membership) {
        await this.store.leaderResign?.('maintenance', this.#membership.id).catch(() => {});
        await this.#membership.stop();
      }
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the last batches reach the store
      await this.store.close();
    })();
    return this.#closing;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Whether this process can reach its store and claim right now. False during a
   * database outage, or after a refused heartbeat until the process has registered again.
   */
  health(): HealthStatus {
    return this.#health.status;
  }

  /** This process's registration id in a shared store (null for stores without a registry). */
  get nodeId(): string | null {
    return this.#membership?.id ?? null;
  }

  /**
   * Reports an error from background work. A store outage changes health once and is
   * logged once, however many calls fail during it. Only probes (heartbeats, claims,
   * maintenance) change health; a failed ack or extend during or just after an outage
   * is expected (a connection that died with the server) and is not logged.
   */
  reportError(err: unknown, during: string): void {
    if (err instanceof StaleLeaseError) return; // expected when a lease moved on; the caller already acted on it
    if (err instanceof StoreUnavailableError) {
      const h = this.#health.status;
      const started = this.#callStarted.get(err);
      // A call that began before the recovery failed on a connection that died with the old server:
      // not a new outage. (For calls of unknown start, the first seconds after a recovery count as such.)
      const leftover = h.healthy && h.since > this.#openedAt && (started !== undefined ? started < h.since : this.clock.now() - h.since < OUTAGE_AFTERMATH_MS);
      if (leftover) return;
      // Health follows probes: the heartbeat for a registered process, else claims and maintenance.
      const probe = this.#membership?.started ? during === 'heartbeat' : during === 'heartbeat' || during === 'maintenance' || during.startsWith('claim from');
      if (probe) {
        if (this.#health.down(`${during}: ${err.message}`) && this.#customOnError) this.#onError(err, during);
        return;
      }
      // Other calls that fail for want of the store (acks, extends) are not reported one by one: if the
      // store is really gone, the next probe reports the outage, once.
      return;
    }
    this.#onError(err, during);
  }

  #tagStart(err: unknown, started: number): void {
    if (typeof err === 'object' && err !== null) this.#callStarted.set(err, started);
  }

  #markHealthy(): void {
    // A registered process is declared healthy by its heartbeat, which re-registers first if it must.
    if (!this.#membership?.started && this.#health.up()) this.#wakeAll();
  }

  #wakeAll(): void {
    for (const d of this.#dispatchers.values()) d.wake();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  #dispatcher(queue: string): QueueDispatcher {
    let d = this.#dispatchers.get(queue);
    if (!d) {
      d = new QueueDispatcher({
        claimBatchMax: this.#limits.claimBatchMax,
        claim: (limit) => this.#claim(queue, limit),
        giveBack: (jobs) => {
          for (const j of jobs) {
            const p = this.release({ jobId: j.id, token: j.leaseToken }).catch((err) => this.reportError(err, 'release'));
            this.#givingBack.add(p);
            void p.finally(() => this.#givingBack.delete(p));
          }
        },
        delivered: (job, sub) => this.#inflight.set(job.id, { token: job.leaseToken, attempt: job.attempt, queue, sub }),
        isPaused: () => this.#paused.get(queue) === true,
        onError: (err) => this.reportError(err, `claim from ${queue}`),
      });
      this.#dispatchers.set(queue, d);
      void this.queueConfig(queue).then(() => d!.wake(), (err) => this.reportError(err, `load queue ${queue}`));
    }
    return d;
  }

  async #claim(queue: string, limit: number): Promise<Job[]> {
    const config = this.#configs.get(queue) ?? (await this.queueConfig(queue));
    if (this.#closed) return [];
    const started = this.clock.now();
    try {
      await this.#membership?.start();
      const jobs = await this.store.jobsClaim({ queue, limit, leaseMs: config.visibilityTimeoutMs, now: this.clock.now(), workerId: this.#membership?.id });
      this.#markHealthy();
      return jobs;
    } catch (err) {
      this.#tagStart(err, started);
      throw err;
    }
  }

  #afterInsert(rows: readonly NewJobRow[]): void {
    let lastQueue = '';
    for (const r of rows) {
      if (r.state === 'scheduled') this.#maintenance?.noteDue(r.runAt);
      else if (r.queue !== lastQueue) {
        lastQueue = r.queue;
        this.#dispatchers.get(r.queue)?.wake();
      }
    }
  }

  #settled(lease: Lease): void {
    const info = this.#inflight.get(lease.jobId);
    if (info && info.token === lease.token) this.#inflight.delete(lease.jobId);
  }

  #revoke(jobId: string, reason: Error): void {
    const info = this.#inflight.get(jobId);
    if (!info) return;
    this.#inflight.delete(jobId);
    info.sub?.handlers.revoke(jobId, reason);
  }

  /**
   * Reaping (expired leases, dead processes) and retention are leader duties on a shared
   * store: they run in one process at a time. Their effects on this process (aborting
   * handlers whose lease went, waking consumers) are applied after the duty committed.
   */
  async #maintenanceTick(withCleanup = false): Promise<void> {
    const now = this.clock.now();
    try {
      await this.#maintenanceDuties(now, withCleanup);
    } catch (err) {
      this.#tagStart(err, now);
      throw err;
    }
  }

  async #maintenanceDuties(now: number, withCleanup: boolean): Promise<void> {
    const duty = async (store: Store): Promise<ReapedJob[]> => {
      const reaped: ReapedJob[] = [];
      for (;;) {
        const batch = await store.jobsReapExpired({ now, limit: 1000 });
        reaped.push(...batch);
        if (batch.length < 1000) break;
      }
      if (store.workersReapDead) reaped.push(...(await store.workersReapDead({ now, limit: 10_000 })));
      if (withCleanup) await this.#deleteFinished(store);
      return reaped;
    };
    let reaped: ReapedJob[] = [];
    let led = true;
    if (this.store.asLeader && this.#membership) {
      const r = await this.store.asLeader('maintenance', this.#membership.id, this.#leaderLeaseMs, duty);
      led = r.led;
      if (r.led) reaped = r.value;
    } else reaped = await duty(this.store);
    if (led) this.#upkeep(now);
    for (const r of reaped) {
      this.#revoke(r.id, new StaleLeaseError(r.id, 0, r.state, null));
      if (r.state === 'ready') this.#dispatchers.get(r.queue)?.wake();
    }
    await this.#promoteDue();
    this.#markHealthy();
  }

  /** The leader's table upkeep, at most every VACUUM_INTERVAL_MS, in the background: it must not hold up reaping. */
  #upkeep(now: number): void {
    if (!this.store.tablesVacuum || this.#vacuuming || now - this.#lastVacuumAt < VACUUM_INTERVAL_MS) return;
    this.#lastVacuumAt = now;
    this.#vacuuming = this.store
      .tablesVacuum()
      .catch((err) => this.reportError(err, 'maintenance'))
      .finally(() => (this.#vacuuming = null));
  }

  async #promoteDue(): Promise<void> {
    const queues = await this.store.jobsPromoteDue({ now: this.clock.now(), limit: 10_000 });
    for (const q of queues) this.#dispatchers.get(q)?.wake();
  }

  /**
   * Waiting consumers poll now and then: for jobs other processes added when the store
   * has no notifications, and as a fallback for notifications lost while a connection was down.
   */
  #ensurePolling(): void {
    if (this.#pollTimer) return;
    const poll = () => {
      this.#pollTimer = null;
      if (this.#closed) return;
      for (const d of this.#dispatchers.values()) if (d.hungry) d.wake();
      this.#pollTimer = this.clock.setTimeout(poll, this.#limits.pollIntervalMs);
    };
    this.#pollTimer = this.clock.setTimeout(poll, this.#limits.pollIntervalMs);
  }
}

function newJobView<P>(row: NewJobRow, payload: P): Job<P> {
  return {
    id: row.id, queue: row.queue, name: row.name, payload, priority: row.priority, state: row.state, runAt: row.runAt,
    attempt: 0, maxAttempts: row.maxAttempts, stalls: 0, maxStalls: row.maxStalls, leaseToken: 0, leaseExpiresAt: null,
    createdAt: row.createdAt, updatedAt: row.createdAt, finishedAt: null, lastError: null, result: null, deadReason: null, history: [],
  };
}

function checkJobId(id: unknown, field = 'id'): string {
  if (!isJobId(id)) throw new InvalidArgumentError(field, `${field} ${describe(id)} is not a job id (a UUID such as 0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e)`);
  return id;
}

function checkLease(lease: unknown): asserts lease is Lease {
  const l = lease as Lease;
  if (typeof l !== 'object' || l === null || !isJobId(l.jobId) || !Number.isInteger(l.token) || l.token < 1) {
    throw new InvalidArgumentError('lease', `lease must be { jobId, token } from a delivered job (got ${describe(lease)})`);
  }
}

/** The text kept for a failed attempt: the stack if there is one, cut to the limit. */
function errorText(error: unknown, maxBytes: number): string {
  let text: string;
  if (error instanceof Error) text = error.stack ?? `${error.name}: ${error.message}`;
  else if (typeof error === 'string') text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  if (text.length > maxBytes / 3 && Buffer.byteLength(text) > maxBytes) text = Buffer.from(text).subarray(0, maxBytes).toString('utf8') + '…';
  return text;
}

/** Logs background errors without flooding: the first of each kind, then at most one a minute with a count. */
function rateLimitedConsoleError(): (err: unknown, during: string) => void {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (err, during) => {
    const key = `${during}:${(err as { code?: string })?.code ?? (err as Error)?.name}`;
    const now = Date.now();
    const s = seen.get(key);
    if (s && now - s.at < STALE_LOG_INTERVAL_MS) {
      s.suppressed++;
      return;
    }
    const more = s?.suppressed ? ` (${s.suppressed} more like it since)` : '';
    seen.set(key, { at: now, suppressed: 0 });
    console.error(`spool: error during ${during}: ${(err as Error)?.message ?? String(err)}${more}`);
  };
}
