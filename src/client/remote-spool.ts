import { Batcher } from '../core/batcher.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { InvalidArgumentError, UnrecoverableError } from '../core/errors.ts';
import { runRequest, type RequestOptions, type WaitJobOptions } from '../core/request.ts';
import { remoteDrained, remoteWaitJob } from './remote-waits.ts';
import type { DrainedOptions } from '../core/drained.ts';
import type { HealthStatus } from '../core/health.ts';
import { describe, LIMITS } from '../core/limits.ts';
import { checkOptionKeys, checkOptionType } from '../core/options.ts';
import type { Job, JobLogLine, JobReport, JobState, JobTrace, Lease, QueueStats } from '../core/job.ts';
import type { QueueConfig, QueueConfigInput } from '../core/queue-config.ts';
import { checkQueueName } from '../core/validate.ts';
import type { AddOptions } from '../core/add-options.ts';
import { checkReport, errorText, LIST_OPTION_KEYS } from '../engine/inputs.ts';
import { checkPayloadFilter } from '../engine/list-filter.ts';
import { payloadQueryOf } from '../api/payload-query.ts';
import type { AddItem, AlertEventsOptions, BulkAction, BulkResult, JobFilter, JobPage, ListOptions, QueueDeleted, SpoolClient } from '../api/contract.ts';
import { Queue } from '../api/queue.ts';
import { checkFlowInput, type AddedFlow, type Flow, type FlowInput } from '../core/flow.ts';
import type { CallMethod, ItemResult, PublishedJob, PublishItem } from '../protocol/frames.ts';
import { expandConfirm, withPayload, type CompactConfirm } from '../protocol/confirm.ts';
import { errorFromWire } from '../protocol/wire-errors.ts';
import type { WireFields } from '../core/error-codes.ts';
import type { Overview, OverviewHistory } from '../model/overview.ts';
import { checkAlertId, checkAlertRule, type AlertEvent, type AlertRule, type AlertRuleInput } from '../alerts/rules.ts';
import { checkSchedule, checkScheduleName, type Schedule, type ScheduleInput } from '../core/schedule.ts';
import { activeTrace, loadTracing } from '../tracing/tracing.ts';
import type { Subscription, SubscriptionHandlers } from '../worker/consumer.ts';
import { Worker, type Handler, type WorkerOptions } from '../worker/worker.ts';
import { Connection, type ConnectionOptions } from './connection.ts';
import { checkBulk, checkConnectArgs, checkStorable, toPublishItem } from './remote-inputs.ts';
import { RemoteSubscription } from './remote-subscription.ts';
import { RemoteLeases } from './remote-leases.ts';
import { RemoteTopics } from './remote-topics.ts';
import type { Binding, Bindings, PublishOptions, Published } from '../core/publish.ts';

/** Options for {@link Spool.connect}. */
export type ConnectOptions = Partial<Omit<ConnectionOptions, 'urls'>> & {
  /** Called with errors from background work (a failed ack, a refused subscription). Default: console.error. */
  onError?: (err: unknown, during: string) => void;
  /**
   * How long an add to a full bounded queue (`maxLength`, overflow `reject`) waits for room before
   * it throws QueueFullError, as an in-process Spool's add does: the broker holds the add and tries
   * again when jobs leave the queue. 0: refuse at once. Default 10 s, at most 5 min.
   */
  queueFullWaitMs?: number;
};

/**
 * A Spool on the far side of a WebSocket: the same queue, worker and job API as the
 * in-process engine. Adds and lease operations made in one tick travel as one frame.
 * @example
 * const spool = await Spool.connect(['ws://10.0.0.5:7600', 'ws://10.0.0.6:7600'], { token });
 * await spool.queue('emails').add({ to: 'a@example.com' });
 * spool.work('emails', async (job) => send(job.payload), { concurrency: 16 });
 */
export class RemoteSpool implements SpoolClient {
  readonly clock: Clock;
  readonly #conn: Connection;
  readonly #onError: (err: unknown, during: string) => void;
  /** How long the broker may hold an add while a bounded queue is full (ConnectOptions.queueFullWaitMs). */
  readonly #queueFullWaitMs: number;
  /** Publish, bind, unbind (remote-topics.ts). */
  readonly #topics: RemoteTopics;
  readonly #subs = new Map<number, RemoteSubscription>();
  readonly #publishers = new Map<string, Batcher<PublishItem, ItemResult>>();
  /** Lease operations, batched per op, and the leases this client holds. */
  readonly #leases: RemoteLeases;
  readonly #workers = new Set<Worker<any>>();
  #nextSub = 1;
  #closing: Promise<void> | null = null;

  private constructor(conn: Connection, clock: Clock, onError: (err: unknown, during: string) => void, queueFullWaitMs: number) {
    this.#conn = conn;
    this.#leases = new RemoteLeases(conn);
    this.#queueFullWaitMs = queueFullWaitMs;
    this.#topics = new RemoteTopics(async (method, params, resend = true) => (await conn.request({ op: 'call', method, params }, resend)).value, queueFullWaitMs, () => conn.limits.batchMax);
    this.clock = clock;
    this.#onError = onError;
    conn.onUp = () => {
      for (const sub of this.#subs.values()) sub.reopen();
      // Every onUp is a reconnect: the connection was up before this object was made (connect()
      // awaits it), so the first welcome never reaches here. The leases held go through the new broker.
      this.#leases.reclaimHeld();
    };
    conn.onPush = (frame) => {
      const sub = this.#subs.get(frame.sub);
      if (frame.op === 'revoke') {
        const lease = { jobId: frame.jobId, token: frame.token };
        this.#leases.forget(lease);
        return sub?.handlers.revoke(lease, errorFromWire(frame.error));
      }
      if (sub && !sub.closed) {
        for (const job of frame.jobs) {
          const lease = { jobId: job.id, token: job.leaseToken };
          this.#leases.hold(lease, sub);
        }
        return sub.delivered(frame.jobs);
      }
      // Delivered to a subscription closed meanwhile: give the jobs straight back.
      for (const job of frame.jobs) void this.release({ jobId: job.id, token: job.leaseToken }).catch(() => {});
    };
  }

  /** Connects to the first broker of `urls` that answers. @throws if none does within connectTimeoutMs, or the token is refused. */
  static async connect(urls: string | readonly string[], options: ConnectOptions = {}): Promise<RemoteSpool> {
    const { list, limits } = checkConnectArgs(urls, options);
    const clock = options.clock ?? systemClock;
    const onError = options.onError ?? ((err: unknown, during: string) => console.error(`spool client (${during}): ${(err as Error)?.message ?? err}`));
    const conn = new Connection({ ...options, ...limits, urls: list, clock, log: options.log ?? ((line) => console.error(line)), random: options.random ?? Math.random });
    await loadTracing(); // once per process; without @opentelemetry/api, tracing stays off
    await conn.start();
    return new RemoteSpool(conn, clock, onError, limits.queueFullWaitMs);
  }

  queue<P = unknown>(name: string): Queue<P> {
    return new Queue<P>(this, checkQueueName(name));
  }

  async add<P>(queue: string, payload: P, options: AddOptions = {}): Promise<Job<P>> {
    checkQueueName(queue);
    options ??= {}; // null too, as the engine takes it: no options
    if (options.tx !== undefined) throw new InvalidArgumentError('tx', 'adding inside your own transaction needs an in-process Spool on PostgreSQL (Spool.open)');
    let publisher = this.#publishers.get(queue);
    if (!publisher) {
      publisher = new Batcher((items) => this.#publish(queue, items), this.#conn.limits.batchMax);
      this.#publishers.set(queue, publisher);
    }
    // The context is taken here, in the caller's process: the broker cannot see the producer's span.
    const r = await publisher.push(toPublishItem(payload, options, this.clock.now(), activeTrace));
    if (!r.ok) throw errorFromWire(r.error);
    return withPayload(r.value as PublishedJob, payload);
  }

  /** Adds many jobs atomically: all are stored, or none. */
  async addMany<P>(queue: string, items: readonly AddItem<P>[]): Promise<Job<P>[]> {
    checkQueueName(queue);
    // Checked as the engine checks them (engine/inputs.ts buildJobRows), in the same words.
    if (!Array.isArray(items)) throw new InvalidArgumentError('items', `addMany takes an array of { payload, ...options } (got ${describe(items)})`);
    if (items.length === 0) return [];
    const max = this.#conn.limits.batchMax; // the broker's addManyMax
    if (items.length > max) throw new InvalidArgumentError('items', `addMany got ${items.length} jobs, over the addManyMax limit of ${max}; split the batch`);
    for (const [i, item] of items.entries()) {
      if (typeof item !== 'object' || item === null) throw new InvalidArgumentError(`items[${i}]`, `items[${i}] must be an object { payload, ...options }`);
    }
    if (items.some((i) => i.tx !== undefined)) throw new InvalidArgumentError('tx', 'adding inside your own transaction needs an in-process Spool on PostgreSQL (Spool.open)');
    // Read once for the call, in the caller's context, and only if a job leaves `trace` out.
    let active: JobTrace | null | undefined;
    const caller = () => (active === undefined ? (active = activeTrace()) : active);
    await this.#conn.writable();
    const now = this.clock.now();
    const jobs = items.map((item, i) => {
      try {
        const { payload, ...options } = item;
        return toPublishItem(payload, options, now, caller);
      } catch (err) {
        if (items.length > 1 && err instanceof Error) err.message = `items[${i}]: ${err.message}`; // as the engine names it
        throw err;
      }
    });
    const { value } = await this.#conn.request({ op: 'publish', queue, jobs, atomic: true, confirm: 'ids', waitMs: this.#queueFullWaitMs });
    const stored = 'first' in (value as object) ? expandConfirm(value as CompactConfirm) : (value as { jobs: PublishedJob[] }).jobs; // {jobs}: an older broker
    return stored.map((job, i) => withPayload(job, items[i]!.payload));
  }

  async #publish(queue: string, items: PublishItem[]): Promise<ItemResult[]> {
    await this.#conn.writable();
    const { value } = await this.#conn.request({ op: 'publish', queue, jobs: items, waitMs: this.#queueFullWaitMs });
    return (value as { results: ItemResult[] }).results;
  }

  get<P = unknown>(id: string): Promise<Job<P>> {
    return this.#call('get', { jobId: id }) as Promise<Job<P>>;
  }

  /**
   * Checked here as the engine checks it (the broker's own flowChildrenMax applies there). Never
   * sent again after a lost connection (a flow has no idempotency key): the call then fails with
   * ConnectionLostError, and getFlow or a listing says whether it was written.
   */
  async addFlow<P = unknown, C = unknown>(flow: FlowInput<P, C>): Promise<AddedFlow<P, C>> {
    const { children, ...parent } = checkFlowInput(flow, LIMITS.flowChildrenMax.max);
    const params = { ...parent, children: children.map((c) => (c.runAt instanceof Date ? { ...c, runAt: c.runAt.getTime() } : c)) };
    return (await this.#conn.request({ op: 'call', method: 'addFlow', params }, false)).value as AddedFlow<P, C>;
  }

  getFlow(parentId: string): Promise<Flow> {
    return this.#call('getFlow', { jobId: parentId }) as Promise<Flow>;
  }

  /** Long polls of the broker until the job has finished (remote-waits.ts). @throws JobWaitTimeoutError; JobNotFoundError */
  waitJob<P = unknown>(id: string, options?: WaitJobOptions): Promise<Job<P>> {
    return remoteWaitJob<P>((m, p) => this.#call(m, p), this.clock, id, options);
  }

  /** Adds a job and resolves with its result (docs/request-reply.md). @throws JobFailedError; JobWaitTimeoutError */
  request<P = unknown, R = unknown>(queue: string, payload: P, options?: RequestOptions): Promise<R> {
    return runRequest<P, R>(this, queue, payload, options);
  }

  async list(queue: string, options: ListOptions = {}): Promise<Job[]> {
    return (await this.listPage(queue, options)).jobs;
  }

  async listPage(queue: string, options: ListOptions = {}): Promise<JobPage> {
    checkOptionKeys(options, LIST_OPTION_KEYS, 'list');
    const { payload, ...rest } = options;
    if (payload !== undefined) checkPayloadFilter(payload, 'list');
    return (await this.#call('list', { queue, ...rest, ...payloadQueryOf(payload) })) as JobPage;
  }

  async cancel(id: string): Promise<void> {
    await this.#call('cancel', { jobId: id });
  }

  async retry(id: string): Promise<void> {
    await this.#call('retry', { jobId: id });
  }

  async deleteJob(id: string): Promise<void> {
    await this.#call('deleteJob', { jobId: id });
  }

  async bulk(action: BulkAction, filter: JobFilter, options: { after?: string; limit?: number } = {}): Promise<BulkResult> {
    checkBulk(action, filter, options);
    const { payload, ...rest } = filter;
    return (await this.#call('bulk', { action, ...rest, ...payloadQueryOf(payload), ...options })) as BulkResult;
  }

  stats(queue?: string): Promise<QueueStats[]> {
    return this.#call('stats', queue === undefined ? {} : { queue }) as Promise<QueueStats[]>;
  }

  /** Long polls of the broker until the queue is drained (remote-waits.ts). @throws DrainTimeoutError; QueueNotFoundError */
  drained(queue: string, options?: DrainedOptions): Promise<void> {
    return remoteDrained((m, p) => this.#call(m, p), this.clock, checkQueueName(queue), options);
  }

  async purge(queue: string): Promise<number> {
    return ((await this.#call('purge', { queue })) as { purged: number }).purged;
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    await this.#call(paused ? 'pause' : 'resume', { queue });
  }

  async configureQueue(name: string, input: QueueConfigInput): Promise<QueueConfig> {
    return ((await this.#call('configure', { queue: name, config: input })) as { config: QueueConfig }).config;
  }

  async queueConfig(name: string): Promise<QueueConfig> {
    return ((await this.#call('config', { queue: name })) as { config: QueueConfig }).config;
  }

  async deleteQueue(name: string, options: { force?: boolean } = {}): Promise<QueueDeleted> {
    // As the engine checks them (engine/operator.ts deleteQueue): `{ force: 'yes' }` must not travel as a forced delete.
    checkQueueName(name);
    checkOptionKeys(options, ['force'], 'deleteQueue');
    checkOptionType(options.force, 'force', 'boolean');
    const { jobsDeleted } = (await this.#call('deleteQueue', { queue: name, ...(options.force ? { force: true } : {}) })) as QueueDeleted;
    return { jobsDeleted };
  }

  async #call(method: CallMethod, params: Record<string, unknown>): Promise<unknown> {
    return (await this.#conn.request({ op: 'call', method, params })).value;
  }

  subscribe(queue: string, handlers: SubscriptionHandlers): Subscription {
    checkQueueName(queue);
    const id = this.#nextSub++;
    const sub = new RemoteSubscription(this.#conn, id, queue, handlers, {
      onError: (err) => this.reportError(err, `subscription to ${queue}`),
      onClose: () => this.#subs.delete(id),
    });
    this.#subs.set(sub.id, sub);
    // Opened at the end of the tick, so the credits granted right after subscribing travel with it.
    queueMicrotask(() => this.#conn.connected && sub.reopen());
    return sub;
  }

  async ack(lease: Lease, result?: unknown): Promise<void> {
    if (result !== undefined) checkStorable(result, 'result');
    await this.#leases.op('ack', { ...lease, ...(result === undefined ? {} : { result }) });
  }

  async nack(lease: Lease, error: unknown, options: { unrecoverable?: boolean } = {}): Promise<JobState> {
    // The text the engine keeps (the stack, if any), and its rule for what skips the remaining attempts;
    // cut at the largest errorMaxBytes any broker keeps (the broker cuts it to its own).
    const text = errorText(error, LIMITS.errorMaxBytes.max);
    const unrecoverable = options.unrecoverable === true || error instanceof UnrecoverableError || (error as { code?: unknown } | null)?.code === 'UNRECOVERABLE';
    return (await this.#leases.op('nack', { ...lease, error: text, ...(unrecoverable ? { unrecoverable: true } : {}) })) as JobState;
  }

  async extend(lease: Lease, leaseMs?: number): Promise<number> {
    return (await this.#leases.op('extend', { ...lease, ...(leaseMs === undefined ? {} : { leaseMs }) })) as number;
  }

  async release(lease: Lease): Promise<void> {
    await this.#leases.op('release', { ...lease });
  }

  async report(lease: Lease, report: JobReport): Promise<void> {
    // Refused here as the engine refuses it, before anything travels.
    checkReport(report, { progressMaxBytes: LIMITS.progressMaxBytes.max, jobLogLineMaxBytes: LIMITS.jobLogLineMaxBytes.max });
    const { results } = (await this.#call('report', { leases: [{ ...lease, ...report }] })) as { results: { ok: boolean; error?: WireFields }[] };
    const r = results[0]!;
    if (!r.ok) throw errorFromWire(r.error!);
  }

  async overview(options: { history?: boolean } = {}): Promise<Overview & { history?: OverviewHistory }> {
    checkOptionKeys(options, ['history'], 'overview');
    return (await this.#call('overview', options.history === true ? { history: true } : {})) as Overview & { history?: OverviewHistory };
  }

  publish<P>(topic: string, payload: P, options?: PublishOptions): Promise<Published<P>> { return this.#topics.publish(topic, payload, options); }
  bind(pattern: string, queue: string): Promise<Binding> { return this.#topics.bind(pattern, queue); }
  unbind(pattern: string, queue: string): Promise<{ removed: boolean }> { return this.#topics.unbind(pattern, queue); }
  bindings(): Promise<Bindings> { return this.#topics.bindings(); }
  setUnroutedQueue(queue: string | null): Promise<void> { return this.#topics.setUnroutedQueue(queue); }

  async setAlert(rule: AlertRuleInput): Promise<AlertRule> {
    checkAlertRule(rule); // as the engine checks it, so the same mistake reads the same either way
    return (await this.#call('setAlert', { ...rule })) as AlertRule;
  }

  async alerts(): Promise<AlertRule[]> {
    return ((await this.#call('alerts', {})) as { alerts: AlertRule[] }).alerts;
  }

  async deleteAlert(id: string): Promise<void> {
    await this.#call('deleteAlert', { id: checkAlertId(id) });
  }

  async alertEvents(options: AlertEventsOptions = {}): Promise<AlertEvent[]> {
    checkOptionKeys(options, ['ruleId', 'before', 'limit'], 'alertEvents');
    return ((await this.#call('alertEvents', { ...options })) as { events: AlertEvent[] }).events;
  }

  async schedule(name: string, input: ScheduleInput): Promise<Schedule> {
    checkSchedule(name, input, LIMITS.payloadMaxBytes.max); // as the engine checks it, so the same mistake reads the same either way
    return (await this.#call('schedule', { ...input, name })) as Schedule;
  }

  async schedules(): Promise<Schedule[]> {
    return ((await this.#call('schedules', {})) as { schedules: Schedule[] }).schedules;
  }

  async unschedule(name: string): Promise<void> {
    await this.#call('unschedule', { name: checkScheduleName(name) });
  }

  async pauseSchedule(name: string): Promise<Schedule> {
    return (await this.#call('pauseSchedule', { name: checkScheduleName(name) })) as Schedule;
  }

  async resumeSchedule(name: string): Promise<Schedule> {
    return (await this.#call('resumeSchedule', { name: checkScheduleName(name) })) as Schedule;
  }

  async logs(id: string): Promise<JobLogLine[]> {
    return ((await this.#call('logs', { jobId: id })) as { lines: JobLogLine[] }).lines;
  }

  work<P = unknown, R = unknown>(queue: string, handler: Handler<P, R>, options: WorkerOptions = {}): Worker<P, R> {
    checkQueueName(queue);
    const worker = new Worker<P, R>(this, queue, handler, options);
    this.#workers.add(worker);
    void worker.closed.then(() => this.#workers.delete(worker));
    worker.start();
    return worker;
  }

  /** Connected to a broker now. While reconnecting, requests wait and leases held stay valid until they expire. */
  health(): HealthStatus {
    return this.#conn.health.status;
  }

  reportError(err: unknown, during: string): void {
    this.#onError(err, during);
  }

  /** Stops workers gracefully, waits for their last acks (up to 5 s), then closes the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#workers].map((w) => w.close()));
      const deadline = Date.now() + 5_000;
      while (this.#conn.inFlight > 0 && this.#conn.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await this.#conn.close();
    })();
    return this.#closing;
  }

  get isClosed(): boolean {
    return this.#closing !== null;
  }
}
