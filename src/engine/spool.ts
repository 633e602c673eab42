import { systemClock, type Clock } from '../core/clock.ts';
import { ClosedError, JobNotFoundError, QueueNotFoundError } from '../core/errors.ts';
import type { Job, JobLogLine, JobReport, JobState, Lease, QueueStats } from '../core/job.ts';
import { checkLimit } from '../core/limits.ts';
import type { QueueConfig, QueueConfigInput } from '../core/queue-config.ts';
import { checkQueueName, type AddOptions } from '../core/validate.ts';
import type { ItemOutcome, NewJobRow, Store } from '../store/store.ts';
import type { Subscription, SubscriptionHandlers } from '../worker/consumer.ts';
import type { BulkAction, BulkResult, JobFilter, JobPage, QueueDeleted, SpoolClient } from '../api/contract.ts';
import { Worker, type Handler, type WorkerOptions } from '../worker/worker.ts';
import { Batcher } from '../core/batcher.ts';
import { Dispatch } from './dispatch.ts';
import { deleteFinished, purgeQueue } from './duties.ts';
import { defaultServices, ServiceRunner } from './services.ts';
import { Health, type HealthStatus } from '../core/health.ts';
import { Admission } from './admission.ts';
import { Inflight } from './inflight.ts';
import { Telemetry } from './telemetry.ts';
import { checkOptionKeys } from '../core/options.ts';
import { ModelSampler } from '../model/sampler.ts';
import type { ConsumerInfo, Overview, OverviewHistory } from '../model/overview.ts';
import { applyQueueDefaults, buildJobRows, callerTransaction, checkListParams } from './inputs.ts';
import { checkJobId } from '../core/validate.ts';
import { Maintenance } from './maintenance.ts';
import { Operator } from './operator.ts';
import { Membership } from './membership.ts';
import { openStore } from './open-store.ts';
import { resolveSettings, type AddItem, type EngineSettings, type ListOptions, type OpenOptions, type SpoolEvent } from './options.ts';
import { LeaseOps } from './leases.ts';
import { OutageReporter } from './outages.ts';
import { Queue } from '../api/queue.ts';
import { QueueSettings } from './queue-settings.ts';
import { loadTracing } from '../tracing/tracing.ts';

export type { AddItem, ListOptions, OpenOptions, SpoolEvent } from './options.ts';

/**
 * An embedded Spool: the engine over a store, in this process.
 * @example
 * const spool = await Spool.open();               // ./spool-data/spool.db
 * await spool.queue('emails').add({ to: 'a@example.com' });
 * spool.work('emails', async (job) => { await send(job.payload); }, { concurrency: 8 });
 */
export class Spool implements SpoolClient {
  readonly clock: Clock;
  readonly store: Store;
  readonly #settings: EngineSettings;
  readonly #health: Health;
  readonly #outages: OutageReporter;
  readonly #queues: QueueSettings;
  readonly #dispatch: Dispatch;
  readonly #inflight = new Inflight(() => this.clock.now());
  /** What this process did, per queue: the counts behind the queueing model and the metrics. */
  readonly telemetry = new Telemetry();
  #sampler: ModelSampler | null = null;
  readonly #openedAt = Date.now();
  readonly #workers = new Set<Worker<any>>();
  readonly #maintenance: Maintenance | null;
  readonly #membership: Membership | null;
  // Adds made in one tick become one store call (and, on SQLite, share one transaction);
  // each keeps its own outcome, so one add the database refuses does not fail the others.
  readonly #inserts: Batcher<NewJobRow, ItemOutcome>;
  readonly #leases: LeaseOps;
  readonly #admission = new Admission();
  readonly #operator: Operator;
  /** Background services (services.ts), run by each maintenance tick. */
  readonly #services: ServiceRunner;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(store: Store, options: OpenOptions, settings: EngineSettings) {
    this.store = store;
    this.#settings = settings;
    this.clock = options.clock ?? systemClock;
    this.#queues = new QueueSettings(store, this.clock, settings.settingsRefreshMs);
    // What background work did, for the operator's log (onEvent); a throwing listener is reported, never breaks the work.
    const emit = (event: SpoolEvent): void => {
      try {
        options.onEvent?.(event);
      } catch (err) {
        this.#outages.report(err, 'onEvent');
      }
    };
    this.#services = new ServiceRunner(
      store, defaultServices(settings),
      {
        revoke: (lease, reason) => this.#inflight.revoke(lease, reason), wake: (queue) => this.#dispatch.wake(queue),
        reaped: (queues) => {
          this.telemetry.expired(queues);
          emit({ type: 'leases-reaped', count: Object.values(queues).reduce((a, b) => a + b, 0), queues });
        },
      },
      (err, service) => this.#outages.probeFailed(err, service),
      (led) => emit({ type: 'leadership', led }),
    );
    const log = options.log ?? ((line: string) => console.error(line));
    this.#health = new Health(this.clock, (line, change) => {
      log(line);
      emit(change.healthy ? { type: 'healthy', downMs: change.downMs } : { type: 'unhealthy', reason: change.reason });
    });
    this.#outages = new OutageReporter(this.clock, this.#health, options.onError);
    // Processes that consume from a shared store register (lazily, at their first claim) and send heartbeats.
    this.#membership = store.workerRegister
      ? new Membership({
          store, clock: this.clock, health: this.#health, intervalMs: settings.heartbeatIntervalMs,
          onError: (err, startedAt) => this.#outages.probeFailed(err, 'heartbeat', startedAt),
          onRecovered: () => this.#dispatch.wakeAll(),
        })
      : null;
    this.#dispatch = new Dispatch(
      this.clock,
      {
        claimBatchMax: settings.claimBatchMax,
        pollIntervalMs: settings.pollIntervalMs,
        claim: async (queue, limit) => {
          const at = this.clock.now();
          try {
            return await this.#claim(queue, limit);
          } catch (err) {
            this.#outages.probeFailed(err, `claim from ${queue}`, at);
            return [];
          }
        },
        release: (lease) => this.release(lease).catch((err) => this.reportError(err, 'release')),
        ready: (queue) => this.#queues.get(queue),
      },
      this.#inflight,
    );
    store.onReady?.((queue) => this.#dispatch.wake(queue));
    this.#inserts = new Batcher(async (rows) => {
      const outcomes = await this.store.jobsInsertEach(rows);
      this.#markHealthy();
      this.#afterInsert(outcomes.every((o) => o.ok) ? rows : rows.filter((_, i) => outcomes[i]!.ok));
      return outcomes;
    }, 10_000);
    this.#leases = new LeaseOps({
      store, clock: this.clock, settings, inflight: this.#inflight, queues: this.#queues, random: options.random ?? Math.random, telemetry: this.telemetry,
      wake: (queue) => this.#dispatch.wake(queue),
      noteDue: (at) => this.#maintenance?.noteDue(at),
      owner: async () => (this.#membership ? (await this.#membership.start(), this.#membership.id) : undefined),
    });
    this.#operator = new Operator({
      store, clock: this.clock, revoke: (lease, reason) => this.#inflight.revoke(lease, reason),
      wake: (queue) => this.#dispatch.wake(queue), forgetQueue: (queue) => this.#queues.forget(queue),
      searchScanMax: settings.searchScanMax,
    });
    const duties = {
      tick: (tick: number) => this.#maintenanceTick(tick),
      nextDueAt: () => this.store.jobsNextDueAt(),
      promoteDue: () => this.#promoteDue(),
      onError: (err: unknown) => this.#outages.probeFailed(err, 'maintenance'),
    };
    this.#maintenance = options.maintenance === false ? null : new Maintenance(this.clock, duties, settings.maintenanceIntervalMs);
  }

  /**
   * Opens a Spool on a store (default: SQLite in `./spool-data`). Validates every option first.
   * @throws InvalidArgumentError for a bad option; SchemaTooNewError if a newer Spool wrote the database.
   */
  static async open(options: OpenOptions = {}): Promise<Spool> {
    const settings = resolveSettings(options); // before anything touches the disk
    await loadTracing(); // once per process; without @opentelemetry/api, tracing stays off
    const store =
      typeof options.store === 'object' && options.store !== null
        ? options.store
        : await openStore(options.store, {
            durability: options.durability, busyTimeoutMs: options.busyTimeoutMs, historyMax: options.historyMax, schema: options.schema, notify: options.notify,
          });
    const spool = new Spool(store, options, settings);
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
    return this.#queues.configure(checkQueueName(name), input);
  }

  /** The queue's settings (defaults for those never set). @throws InvalidArgumentError for a bad name; QueueNotFoundError. */
  async queueConfig(name: string): Promise<QueueConfig> {
    this.#assertOpen();
    await this.#requireQueue(checkQueueName(name));
    return this.#queues.get(name);
  }

  /** Adds one job. Resolves once the job is durable (per the durability setting). */
  async add<P>(queue: string, payload: P, options?: AddOptions): Promise<Job<P>> {
    const [job] = await this.addMany<P>(queue, [{ ...(options ?? {}), payload }]);
    return job!;
  }

  /** Adds many jobs atomically: all are stored, or none. */
  async addMany<P>(queue: string, items: readonly AddItem<P>[]): Promise<Job<P>[]> {
    this.#assertOpen();
    checkQueueName(queue);
    const { rows, jobs } = buildJobRows<P>(queue, items, this.clock.now(), this.#settings);
    // Only valid input reaches here. A new queue's row is written by the insert, in its transaction.
    applyQueueDefaults(rows, jobs, (await this.#queues.state(queue)).config);
    const tx = callerTransaction(items, this.store);
    // Written in the caller's transaction; consumers wake on its commit (NOTIFY) or by polling.
    if (tx !== undefined) await this.store.jobsInsertManyInTransaction!(tx, rows);
    else if (rows.length === 1) {
      const outcome = await this.#inserts.push(rows[0]!);
      if (!outcome.ok) throw outcome.error;
    }
    else if (rows.length > 0) {
      await this.store.jobsInsertMany(rows);
      this.#afterInsert(rows);
    }
    this.telemetry.added(queue, rows.length);
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
    return (await this.listPage(queue, options)).jobs;
  }

  /**
   * A page of a queue's jobs and where to go on from. With a payload filter, at most
   * searchScanMax jobs are examined: `next` is where that scan stopped, so the page may be
   * short, or empty, while `next` is not null.
   */
  async listPage(queue: string, options: ListOptions = {}): Promise<JobPage> {
    this.#assertOpen();
    const { params, payload } = checkListParams(queue, options);
    await this.#requireQueue(queue);
    if (payload) return this.store.jobsSearch({ ...params, payload, scanMax: this.#settings.searchScanMax });
    const jobs = await this.store.jobsList(params);
    return { jobs, next: jobs.length === params.limit ? jobs.at(-1)!.id : null };
  }

  /**
   * Cancels a job that has not finished. A running handler is aborted through its signal.
   * @throws JobNotFoundError; InvalidStateError if the job already finished.
   */
  cancel(id: string): Promise<void> {
    this.#assertOpen();
    return this.#operator.cancel(id);
  }

  /**
   * Runs a dead or cancelled job again with fresh attempts, or a scheduled job now.
   * @throws JobNotFoundError; InvalidStateError for completed, ready or active jobs.
   */
  retry(id: string): Promise<void> {
    this.#assertOpen();
    return this.#operator.retry(id);
  }

  /** Deletes a job that is not running (cancel it first). @throws JobNotFoundError; InvalidStateError for an active job. */
  deleteJob(id: string): Promise<void> {
    this.#assertOpen();
    return this.#operator.deleteJob(id);
  }

  /** Deletes a queue with its jobs and settings; refused while jobs run unless `force`. @see Operator.deleteQueue */
  async deleteQueue(name: string, options: { force?: boolean } = {}): Promise<QueueDeleted> {
    this.#assertOpen();
    const deleted = await this.#operator.deleteQueue(name, options);
    this.telemetry.forget(name);
    return deleted;
  }

  /**
   * The live queueing model of every queue (λ, μ, ρ, L, W…, see src/model/queueing.ts) as this
   * process measures it, with its consumers; with `history`, the last hour for charts. The first
   * call starts the sampling (a broker starts it when it starts); counts are read once a second
   * and the store's stats at most once a second, however often this is called.
   */
  async overview(options: { history?: boolean } = {}): Promise<Overview & { history?: OverviewHistory }> {
    this.#assertOpen();
    checkOptionKeys(options, ['history'], 'overview');
    this.#sampler ??= new ModelSampler({
      clock: this.clock,
      counts: () => this.telemetry.snapshot(),
      stats: () => this.store.queueStats(null, this.clock.now()),
      slots: () => this.consumerSlots(),
      consumers: () => this.#consumers(),
    });
    const overview = await this.#sampler.overview();
    return options.history === true ? { ...overview, history: this.#sampler.history() } : overview;
  }

  /** Consumers of this process: a broker's clients by connection, in-process workers as one. */
  #consumers(): ConsumerInfo[] {
    const busy = this.#inflight.busyBySubscriber();
    const byOwner = new Map<string, ConsumerInfo>();
    for (const { queue, sub } of this.#dispatch.subscriptions()) {
      const o = sub.handlers.owner;
      const id = o?.id ?? 'in-process';
      let info = byOwner.get(id);
      if (!info) {
        const now = this.clock.now();
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

  /**
   * Per queue, the worker slots subscribed to it in this process (in-process workers and a
   * broker's remote ones): `slots` is their unspent credits plus the jobs they hold, `inFlight` those jobs.
   */
  consumerSlots(): Map<string, { slots: number; inFlight: number }> {
    const busy = this.#inflight.busyByQueue();
    const out = new Map<string, { slots: number; inFlight: number }>();
    for (const [queue, credits] of this.#dispatch.credits()) out.set(queue, { slots: credits + (busy.get(queue) ?? 0), inFlight: busy.get(queue) ?? 0 });
    for (const [queue, n] of busy) if (!out.has(queue)) out.set(queue, { slots: n, inFlight: n });
    return out;
  }

  /** Retries, cancels or deletes one bounded batch of the jobs matching `filter`. @see Operator.bulk */
  bulk(action: BulkAction, filter: JobFilter, options: { after?: string; limit?: number } = {}): Promise<BulkResult> {
    this.#assertOpen();
    return this.#operator.bulk(action, filter, options);
  }

  /** Counts per state and oldest ready age, for one queue or all. */
  async stats(queue?: string): Promise<QueueStats[]> {
    this.#assertOpen();
    if (queue !== undefined) await this.#requireQueue(checkQueueName(queue));
    return this.store.queueStats(queue ?? null, this.clock.now());
  }

  /**
   * Deletes every waiting (ready or scheduled) job of a queue, in bounded batches; jobs
   * being worked on and finished jobs stay. Returns how many were deleted.
   */
  async purge(queue: string): Promise<number> {
    this.#assertOpen();
    await this.#requireQueue(checkQueueName(queue));
    return purgeQueue(this.store, queue);
  }

  /** Stops (or resumes) deliveries from a queue. Adds are still accepted. @throws QueueNotFoundError */
  async setPaused(queue: string, paused: boolean): Promise<void> {
    this.#assertOpen();
    await this.#queues.setPaused(checkQueueName(queue), paused);
    if (!paused) this.#dispatch.wake(queue);
  }

  /** Pull API: leases up to `limit` ready jobs now. Prefer {@link work} or {@link subscribe}, which are pushed jobs. */
  async claim(queue: string, limit = 1): Promise<Job[]> {
    this.#assertOpen();
    checkQueueName(queue);
    checkLimit('claimBatchMax', limit, 'limit');
    const jobs = await this.#claim(queue, limit);
    for (const job of jobs) this.#inflight.delivered(job, null);
    return jobs;
  }

  subscribe(queue: string, handlers: SubscriptionHandlers): Subscription {
    this.#assertOpen();
    checkQueueName(queue);
    const sub = this.#dispatch.subscribe(queue, handlers);
    this.#dispatch.startPolling(); // a wake-up lost while a connection was down is found by the next poll
    return sub;
  }

  ack(lease: Lease, result?: unknown): Promise<void> {
    this.#assertOpen();
    return this.#leases.ack(lease, result);
  }

  nack(lease: Lease, error: unknown, options: { unrecoverable?: boolean } = {}): Promise<JobState> {
    this.#assertOpen();
    return this.#leases.nack(lease, error, options);
  }

  extend(lease: Lease, leaseMs?: number): Promise<number> {
    this.#assertOpen();
    return this.#leases.extend(lease, leaseMs);
  }

  release(lease: Lease): Promise<void> {
    return this.#leases.release(lease);
  }

  /** Stores a running job's progress and appends log lines; a handler calls job.progress() and job.log(). @throws StaleLeaseError */
  report(lease: Lease, report: JobReport): Promise<void> {
    this.#assertOpen();
    return this.#leases.report(lease, report);
  }

  /** A job's log lines (job.log()), oldest first. @throws JobNotFoundError */
  async logs(id: string): Promise<JobLogLine[]> {
    this.#assertOpen();
    const lines = await this.store.jobLogs(checkJobId(id));
    if (lines === null) throw new JobNotFoundError(id);
    return lines;
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
    worker.start(); // its subscription starts the fallback poll
    return worker;
  }

  /** One pass of maintenance now: reap expired leases, promote due jobs. */
  async runMaintenance(): Promise<void> {
    // Tick 1: the services that run every tick (not retention; see cleanup()).
    await (this.#maintenance ? this.#maintenance.exclusive(() => this.#maintenanceTick(1)) : this.#maintenanceTick(1));
  }

  /** Deletes finished jobs past their retention now; returns how many. */
  async cleanup(): Promise<number> {
    return deleteFinished(this.store, this.clock.now(), this.#settings.retention);
  }

  /** Stops workers gracefully, stops background work, and closes the store. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#workers].map((w) => w.close()));
      await this.#dispatch.stop(); // a claim in flight hands its jobs back (their subscribers are gone) before the store closes
      this.#closed = true;
      this.#sampler?.stop();
      await this.#maintenance?.stop();
      await this.#services.settled();
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

  /** Reports an error from work outside a handler (a failed ack, a release): a store outage is reported once, as the process turning unhealthy, not once per failed call. */
  reportError(err: unknown, during: string): void {
    this.#outages.report(err, during);
  }

  #markHealthy(): void {
    // A registered process is declared healthy by its heartbeat, which re-registers first if it must.
    if (!this.#membership?.started && this.#health.up()) this.#dispatch.wakeAll();
  }

  /** Reads never create a queue: a name no job or setting made is an error, not a new empty queue. */
  async #requireQueue(name: string): Promise<void> {
    if ((await this.store.queueGet(name)) === null) throw new QueueNotFoundError(name);
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  async #claim(queue: string, limit: number): Promise<Job[]> {
    // Settings and the paused flag as every process sees them, at most settingsRefreshMs old;
    // every claim passes the admission rules (pause today).
    const state = await this.#queues.state(queue);
    const admitted = await this.#admission.admit(queue, limit, state);
    if (admitted === 0 || this.#closed) return [];
    await this.#membership?.start();
    const started = performance.now();
    const now = this.clock.now();
    const jobs = await this.store.jobsClaim({ queue, limit: admitted, leaseMs: state.config.visibilityTimeoutMs, now, workerId: this.#membership?.id });
    this.#markHealthy();
    this.telemetry.claimed(queue, jobs, performance.now() - started, now);
    return jobs;
  }

  #afterInsert(rows: readonly NewJobRow[]): void {
    let lastQueue = '';
    for (const r of rows) {
      if (r.state === 'scheduled') this.#maintenance?.noteDue(r.runAt);
      else if (r.queue !== lastQueue) {
        lastQueue = r.queue;
        this.#dispatch.wake(r.queue);
      }
    }
  }

  /**
   * One maintenance tick: the services due (leader duties on a shared store run in one
   * process at a time; their effects on this process are applied after they committed),
   * then promotion of due jobs, which every process does.
   */
  async #maintenanceTick(tick: number): Promise<void> {
    const now = this.clock.now();
    try {
      await this.#services.tick({ leaderId: this.#membership?.id ?? null, leaseMs: this.#settings.leaderLeaseMs, now, tick });
      await this.#promoteDue();
      this.#markHealthy();
    } catch (err) {
      this.#outages.probeFailed(err, 'maintenance', now);
    }
  }

  async #promoteDue(): Promise<void> {
    const queues = await this.store.jobsPromoteDue({ now: this.clock.now(), limit: 10_000 });
    for (const q of queues) this.#dispatch.wake(q);
  }
}

