import { systemClock, type Clock } from '../core/clock.ts';
import { ClockSync } from './clock-sync.ts';
import { ClosedError } from '../core/errors.ts';
import type { Job, JobLogLine, JobReport, JobState, Lease, QueueStats } from '../core/job.ts';
import { checkLimit } from '../core/limits.ts';
import type { QueueConfig, QueueConfigInput } from '../core/queue-config.ts';
import { checkQueueName } from '../core/validate.ts';
import type { AddOptions } from '../core/add-options.ts';
import type { Store } from '../store/store.ts';
import type { Subscription, SubscriptionHandlers } from '../worker/consumer.ts';
import type { AlertEventsOptions, BulkAction, BulkResult, JobFilter, JobPage, QueueDeleted, SpoolClient } from '../api/contract.ts';
import { Worker, type Handler, type WorkerOptions } from '../worker/worker.ts';
import { purgeQueue } from './duties.ts';
import type { HealthStatus } from '../core/health.ts';
import { Inflight } from './inflight.ts';
import { Telemetry } from './telemetry.ts';
import { checkOptionKeys } from '../core/options.ts';
import { checkResourceTags } from '../core/resource-tags.ts';
import type { Overview, OverviewHistory } from '../model/overview.ts';
import type { Binding, Bindings, PublishOptions, Published } from '../core/publish.ts';
import { openEngineStore } from './open-store.ts';
import { resolveSettings, type AddItem, type EngineSettings, type ListOptions, type OpenOptions } from './options.ts';
import { Queue } from '../api/queue.ts';
import type { DrainedOptions } from '../core/drained.ts';
import { waitDrained } from './drain.ts';
import { runRequest, type RequestOptions, type WaitJobOptions } from '../core/request.ts';
import { loadTracing } from '../tracing/tracing.ts';
import { wireSpoolParts, type SpoolParts } from './spool-parts.ts';
import type { AlertEvent, AlertRule, AlertRuleInput } from '../alerts/rules.ts';
import type { Schedule, ScheduleInput } from '../core/schedule.ts';
import type { AddedFlow, Flow, FlowInput } from '../core/flow.ts';

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
  readonly #inflight = new Inflight(() => this.clock.now());
  /** What this process did, per queue: the counts behind the queueing model and the metrics. */
  readonly telemetry = new Telemetry();
  readonly #workers = new Set<Worker<any>>();
  /** The engine's parts (spool-parts.ts), each a seam of its own; the methods below delegate to them. */
  readonly #p: SpoolParts;
  #closed = false;
  #closing: Promise<void> | null = null;

  /** On a store with a server clock (PostgreSQL), what keeps this process's time on it. */
  readonly #clockSync: ClockSync | null;

  private constructor(store: Store, options: OpenOptions, settings: EngineSettings, clockSync: ClockSync | null) {
    this.store = store;
    this.#clockSync = clockSync;
    // Without a clock of the caller's: the store server's where it has one, else this machine's.
    this.clock = options.clock ?? clockSync?.clock ?? systemClock;
    this.#p = wireSpoolParts(store, options, settings, {
      clock: this.clock, inflight: this.#inflight, telemetry: this.telemetry,
      markHealthy: () => this.#markHealthy(), closed: () => this.#closed, reportError: (err, during) => this.reportError(err, during),
      release: (lease) => this.release(lease), stats: (queue) => this.stats(queue),
    });
  }

  /**
   * Opens a Spool on a store (default: SQLite in `./spool-data`). Validates every option first.
   * @throws InvalidArgumentError for a bad option; SchemaTooNewError if a newer Spool wrote the database.
   */
  static async open(options: OpenOptions = {}): Promise<Spool> {
    const settings = resolveSettings(options); // before anything touches the disk
    await loadTracing(); // once per process; without @opentelemetry/api, tracing stays off
    const { store, clockSync } = await openEngineStore(options);
    const spool = new Spool(store, options, settings, clockSync);
    spool.#p.upkeep.start();
    if (options.maintenance !== false) spool.#p.overview.startPublishing(); // background work, as maintenance is
    if (options.maintenance !== false) spool.#p.cron.start(); // every such process fires schedules: one slot, one job (cron.ts)
    return spool;
  }

  /** A handle on a queue. Cheap: make as many as you like. @throws InvalidArgumentError for a bad name. */
  queue<P = unknown>(name: string): Queue<P> { return new Queue<P>(this, checkQueueName(name)); }

  /** Stores settings for a queue and returns the full, validated settings. */
  async configureQueue(name: string, input: QueueConfigInput): Promise<QueueConfig> {
    const config = await this.#open(this.#p.queues).configure(checkQueueName(name), input);
    this.#p.dispatch.wake(name); // a limit raised or removed may admit jobs now
    this.#p.room.freed(name); // a bound raised or removed: waiting adds try again
    return config;
  }

  /** The queue's settings (defaults for those never set). @throws InvalidArgumentError for a bad name; QueueNotFoundError. */
  async queueConfig(name: string): Promise<QueueConfig> {
    this.#assertOpen();
    await this.#p.reads.requireQueue(checkQueueName(name));
    return this.#p.queues.get(name);
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
    return this.#p.intake.addMany<P>(queue, items);
  }

  /**
   * For brokers: adds as `add` (one item) or `addMany` (atomic) do, but waits at most `waitMs` for
   * room in a full bounded queue (0: QueueFullError at once), instead of this process's queueFullWaitMs.
   */
  async addWaiting<P>(queue: string, items: readonly AddItem<P>[], waitMs: number): Promise<Job<P>[]> {
    this.#assertOpen();
    checkQueueName(queue);
    return this.#p.intake.addMany<P>(queue, items, checkLimit('queueFullWaitMs', waitMs, 'waitMs'));
  }

  // Topics (docs/routing.md; each is documented on SpoolOperations): one job per bound queue, all or none.
  publish<P>(topic: string, payload: P, options?: PublishOptions): Promise<Published<P>> { return this.#open(this.#p.routing).publish<P>(topic, payload, options); }
  bind(pattern: string, queue: string): Promise<Binding> { return this.#open(this.#p.routing).bind(pattern, queue); }
  unbind(pattern: string, queue: string): Promise<{ removed: boolean }> { return this.#open(this.#p.routing).unbind(pattern, queue); }
  bindings(): Promise<Bindings> { return this.#open(this.#p.routing).bindings(); }
  setUnroutedQueue(queue: string | null): Promise<void> { return this.#open(this.#p.routing).setUnroutedQueue(queue); }
  /** For brokers: `publish`, with `authorize` shown the queues before anything is written, waiting at most `waitMs` for room. */
  publishChecked<P>(topic: string, payload: P, options: PublishOptions | undefined, waitMs: number, authorize: (queues: readonly string[]) => void): Promise<Published<P>> {
    return this.#open(this.#p.routing).publish<P>(topic, payload, options, checkLimit('queueFullWaitMs', waitMs, 'waitMs'), authorize);
  }

  // Flows (docs/flows.md; each is documented on SpoolOperations): a parent that runs once its children have finished.
  addFlow<P = unknown, C = unknown>(flow: FlowInput<P, C>): Promise<AddedFlow<P, C>> { return this.#open(this.#p.flows).add<P, C>(flow); }
  getFlow(parentId: string): Promise<Flow> { return this.#open(this.#p.flows).get(parentId); }

  /** The job with this id. @throws JobNotFoundError */
  async get<P = unknown>(id: string): Promise<Job<P>> { return this.#open(this.#p.reads).get<P>(id); }
  /** The job once it is completed, dead or cancelled (job-wait.ts). @throws JobWaitTimeoutError; JobNotFoundError */
  waitJob<P = unknown>(id: string, options?: WaitJobOptions): Promise<Job<P>> { return this.#open(this.#p.waits).wait<P>(id, options); }
  /** Adds a job and resolves with its result (docs/request-reply.md). @throws JobFailedError; JobWaitTimeoutError */
  request<P = unknown, R = unknown>(queue: string, payload: P, options?: RequestOptions): Promise<R> { return runRequest<P, R>(this, queue, payload, options); }

  /** Lists a queue's jobs in id (creation) order, optionally in one state, a page at a time. */
  async list(queue: string, options: ListOptions = {}): Promise<Job[]> { return (await this.listPage(queue, options)).jobs; }

  /**
   * A page of a queue's jobs and where to go on from. With a payload filter, at most
   * searchScanMax jobs are examined: `next` is where that scan stopped, so the page may be
   * short, or empty, while `next` is not null.
   */
  async listPage(queue: string, options: ListOptions = {}): Promise<JobPage> { return this.#open(this.#p.reads).listPage(queue, options); }

  /** Sets an alert rule (a new id, or a replacement); see docs/operations.md, Alerts. @throws InvalidArgumentError */
  setAlert(rule: AlertRuleInput): Promise<AlertRule> { return this.#open(this.#p.alerts).set(rule); }
  /** Every alert rule with where it stands (its secret is never read back). */
  alerts(): Promise<AlertRule[]> { return this.#open(this.#p.alerts).list(); }
  /** Deletes an alert rule; a firing one sends its resolution. @throws AlertNotFoundError */
  deleteAlert(id: string): Promise<void> { return this.#open(this.#p.alerts).delete(id); }
  /** Alert firings and resolutions with their webhook delivery, newest first. */
  alertEvents(options?: AlertEventsOptions): Promise<AlertEvent[]> { return this.#open(this.#p.alerts).events(options); }

  /** Creates or replaces a cron or repeat schedule (docs/cron.md): each slot adds one job, once across every process sharing the store. */
  schedule(name: string, input: ScheduleInput): Promise<Schedule> { return this.#open(this.#p.cron).set(name, input); }
  /** Every schedule, by name, with its next slot and counts. */
  schedules(): Promise<Schedule[]> { return this.#open(this.#p.cron).list(); }
  /** Deletes a schedule (the jobs it added stay). @throws ScheduleNotFoundError */
  unschedule(name: string): Promise<void> { return this.#open(this.#p.cron).delete(name); }
  /** Pauses a schedule: its slots get no job until it is resumed. @throws ScheduleNotFoundError */
  pauseSchedule(name: string): Promise<Schedule> { return this.#open(this.#p.cron).setPaused(name, true); }
  /** Resumes a schedule from its next slot after now (slots passed while paused get no job). @throws ScheduleNotFoundError */
  resumeSchedule(name: string): Promise<Schedule> { return this.#open(this.#p.cron).setPaused(name, false); }

  /**
   * Cancels a job that has not finished. A running handler is aborted through its signal.
   * @throws JobNotFoundError; InvalidStateError if the job already finished.
   */
  cancel(id: string): Promise<void> { return this.#open(this.#p.operator).cancel(id); }

  /**
   * Runs a dead or cancelled job again with fresh attempts, or a scheduled job now.
   * @throws JobNotFoundError; InvalidStateError for completed, ready or active jobs.
   */
  retry(id: string): Promise<void> { return this.#open(this.#p.operator).retry(id); }

  /** Deletes a job that is not running (cancel it first). @throws JobNotFoundError; InvalidStateError for an active job. */
  deleteJob(id: string): Promise<void> { return this.#open(this.#p.operator).deleteJob(id); }

  /** Deletes a queue with its jobs and settings; refused while jobs run unless `force`. @see Operator.deleteQueue */
  async deleteQueue(name: string, options: { force?: boolean } = {}): Promise<QueueDeleted> {
    this.#assertOpen();
    const deleted = await this.#p.operator.deleteQueue(name, options);
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
    return this.#p.overview.overview(options.history === true);
  }

  /**
   * The queueing model as {@link Spool.overview} has it, but of this process alone: its own
   * counts, worker slots and consumers (the queues' counts are the store's, as in the overview).
   * The broker's Prometheus metrics report it, per process, to be summed across instances.
   */
  async processOverview(): Promise<Overview> { return this.#open(this.#p.overview).processOverview(); }

  /**
   * Per queue, the worker slots subscribed to it in this process (in-process workers and a
   * broker's remote ones): `slots` is their unspent credits plus the jobs they hold, `inFlight` those jobs.
   */
  consumerSlots(): Map<string, { slots: number; inFlight: number }> { return this.#p.overview.consumerSlots(); }

  /** Retries, cancels or deletes one bounded batch of the jobs matching `filter`. @see Operator.bulk */
  bulk(action: BulkAction, filter: JobFilter, options: { after?: string; limit?: number } = {}): Promise<BulkResult> {
    this.#assertOpen();
    return this.#p.operator.bulk(action, filter, options);
  }

  /** Counts per state and oldest ready age, for one queue or all. */
  async stats(queue?: string): Promise<QueueStats[]> { return this.#open(this.#p.reads).stats(queue); }

  /** Resolves when `queue` has no job ready, scheduled or active (see drain.ts). @throws DrainTimeoutError; QueueNotFoundError */
  drained(queue: string, options?: DrainedOptions): Promise<void> { return waitDrained(this.#open(this.#p.drain), queue, options); }

  /**
   * Deletes every waiting (ready or scheduled) job of a queue, in bounded batches; jobs
   * being worked on and finished jobs stay. Returns how many were deleted.
   */
  async purge(queue: string): Promise<number> {
    this.#assertOpen();
    await this.#p.reads.requireQueue(checkQueueName(queue));
    return purgeQueue(this.store, queue);
  }

  /** Stops (or resumes) deliveries from a queue. Adds are still accepted. @throws QueueNotFoundError */
  async setPaused(queue: string, paused: boolean): Promise<void> {
    this.#assertOpen();
    await this.#p.queues.setPaused(checkQueueName(queue), paused);
    if (!paused) this.#p.dispatch.wake(queue);
  }

  /**
   * Pull API: leases up to `limit` ready jobs now. Prefer {@link work} or {@link subscribe}, which are pushed jobs.
   * `tags`: the caller's resource tags (as WorkerOptions.tags); without them, only jobs without `requires` are leased.
   */
  async claim(queue: string, limit = 1, options: { tags?: readonly string[] } = {}): Promise<Job[]> {
    this.#assertOpen();
    checkQueueName(queue);
    checkLimit('claimBatchMax', limit, 'limit');
    checkOptionKeys(options, ['tags'], 'claim');
    const tags = options.tags === undefined ? [] : checkResourceTags(options.tags, 'tags');
    const jobs = await this.#p.claims.claim(queue, limit, tags);
    for (const job of jobs) this.#inflight.delivered(job, null);
    return jobs;
  }

  subscribe(queue: string, handlers: SubscriptionHandlers): Subscription {
    this.#assertOpen();
    checkQueueName(queue);
    const sub = this.#p.dispatch.subscribe(queue, handlers);
    this.#p.dispatch.startPolling(); // a wake-up lost while a connection was down is found by the next poll
    return sub;
  }

  ack(lease: Lease, result?: unknown): Promise<void> { return this.#open(this.#p.leases).ack(lease, result); }
  nack(lease: Lease, error: unknown, options: { unrecoverable?: boolean } = {}): Promise<JobState> { return this.#open(this.#p.leases).nack(lease, error, options); }
  extend(lease: Lease, leaseMs?: number): Promise<number> { return this.#open(this.#p.leases).extend(lease, leaseMs); }

  /**
   * Leases whose holder is gone (a broker's connection to a remote worker closed): each is made
   * to end within `withinMs` from now, so the lease reaper takes it back then, unless it was
   * settled, taken back or extended since its holder last set `expiresAt` (a newer lease, or
   * the worker back through another connection, is never touched). Returns how many were shortened.
   */
  async abandonLeases(items: readonly { lease: Lease; expiresAt: number }[], withinMs: number): Promise<number> {
    return this.#open(this.#p.leases).shorten(items, this.clock.now() + withinMs);
  }

  release(lease: Lease): Promise<void> { return this.#p.leases.release(lease); }

  /** Stores a running job's progress and appends log lines; a handler calls job.progress() and job.log(). @throws StaleLeaseError */
  report(lease: Lease, report: JobReport): Promise<void> { return this.#open(this.#p.leases).report(lease, report); }

  /** A job's log lines (job.log()), oldest first. @throws JobNotFoundError */
  async logs(id: string): Promise<JobLogLine[]> { return this.#open(this.#p.reads).logs(id); }

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

  /** One pass of maintenance now: reap expired leases, promote due jobs, fire the schedules due. */
  runMaintenance(): Promise<void> { return this.#p.upkeep.runNow().then(async () => void (await this.#p.cron.fireDue())); }

  /** Deletes finished jobs past their retention now; returns how many. */
  cleanup(): Promise<number> { return this.#p.upkeep.cleanup(); }

  /** Stops workers gracefully, stops background work, and closes the store. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#workers].map((w) => w.close()));
      await this.#p.dispatch.stop(); // a claim in flight hands its jobs back (their subscribers are gone) before the store closes
      this.#closed = true;
      this.#p.held.stop();
      await this.#p.cron.stop();
      await this.#p.overview.stop(); // after a last snapshot of this process
      await this.#p.upkeep.stop(); // waits for a running tick, then for the upkeep the services started
      await this.#clockSync?.stop();
      if (this.#p.membership) {
        await this.store.leaderResign?.('maintenance', this.#p.membership.id).catch(() => {});
        await this.#p.membership.stop();
      }
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the last batches reach the store
      await this.store.close();
    })();
    return this.#closing;
  }

  get isClosed(): boolean { return this.#closed; }

  /**
   * Whether this process can reach its store and claim right now. False during a
   * database outage, or after a refused heartbeat until the process has registered again.
   */
  health(): HealthStatus { return this.#p.signals.health.status; }

  /** This process's registration id in a shared store (null for stores without a registry). */
  get nodeId(): string | null { return this.#p.membership?.id ?? null; }

  /** Reports an error from work outside a handler (a failed ack, a release): a store outage is reported once, as the process turning unhealthy, not once per failed call. */
  reportError(err: unknown, during: string): void { this.#p.signals.outages.report(err, during); }

  #markHealthy(): void {
    // A registered process is declared healthy by its heartbeat, which re-registers first if it must.
    if (!this.#p.membership?.started && this.#p.signals.health.up()) this.#p.dispatch.wakeAll();
  }

  #assertOpen(): void { if (this.#closed) throw new ClosedError(); }

  /** `part`, once this Spool is known to be open: `this.#open(this.#p.reads).get(id)`. @throws ClosedError */
  #open<T>(part: T): T {
    this.#assertOpen();
    return part;
  }
}

