/**
 * The public contract of a Spool: what `Spool.open()` (the engine in this process) and
 * `Spool.connect()` (a broker over the network) both are. Write code and tests against
 * {@link SpoolClient} and they run against either; the broker depends on it too, not on
 * the engine class.
 */
import type { HealthStatus } from '../core/health.ts';
import type { Overview, OverviewHistory } from '../model/overview.ts';
import type { Job, JobLogLine, JobState, QueueStats } from '../core/job.ts';
import type { QueueConfig, QueueConfigInput } from '../core/queue-config.ts';
import type { AddOptions } from '../core/add-options.ts';
import type { Binding, Bindings, PublishOptions, Published } from '../core/publish.ts';
import type { DrainedOptions } from '../core/drained.ts';
import type { AddedFlow, Flow, FlowInput } from '../core/flow.ts';
import type { RequestOptions, WaitJobOptions } from '../core/request.ts';
import type { AlertEvent, AlertRule, AlertRuleInput } from '../alerts/rules.ts';
import type { Schedule, ScheduleInput } from '../core/schedule.ts';
import type { ConsumerApi } from '../worker/consumer.ts';
import type { Handler, Worker, WorkerOptions } from '../worker/worker.ts';

/** One item of an `addMany`: a payload and the options of `add`. */
export interface AddItem<P = unknown> extends AddOptions {
  payload: P;
}

/**
 * A payload field and the value it must equal: `path` is object keys joined by dots
 * (`user.id`; each key `[A-Za-z0-9_-]{1,64}`, at most 8, never an array index), `equals` a
 * JSON scalar, compared by kind: 12345 matches the number 12345 (or 12345.0), not the string "12345".
 */
export interface PayloadFilter {
  path: string;
  equals: string | number | boolean | null;
}

/** Options of a job listing. */
export interface ListOptions {
  state?: JobState;
  /** Only jobs with this name. */
  name?: string;
  /** Only jobs of this group (the `group` add option). An index serves it: a page reads the group's jobs alone. */
  group?: string;
  /** Cursor: the last id of the previous page (or a payload search's `next`). */
  after?: string;
  /** Only jobs created at or after this time (Unix ms), by the time in their id. */
  createdAfter?: number;
  /** Only jobs created at or before this time (Unix ms, inclusive). */
  createdBefore?: number;
  /**
   * Only jobs whose payload has this field equal to this value. No index serves it: one call
   * examines at most `searchScanMax` jobs, so a page may be short, or empty, before the end:
   * go on from its `next` (see {@link SpoolOperations.listPage}).
   */
  payload?: PayloadFilter;
  limit?: number;
}

/** A page of a listing: its jobs, and the `after` of the next page, or null at the end. */
export interface JobPage {
  jobs: Job[];
  /**
   * Where to go on from: the last job's id when the page is full; with a payload filter, where
   * the bounded scan stopped (even if the page is short or empty). Null: nothing is left.
   */
  next: string | null;
}

/**
 * Which jobs a bulk action applies to: one queue, optionally one state, one job name, one group, a
 * creation time range and a payload field (a batch with a payload filter examines at most
 * `searchScanMax` jobs).
 */
export interface JobFilter {
  queue: string;
  state?: JobState;
  name?: string;
  /** Only jobs of this group. */
  group?: string;
  createdAfter?: number;
  createdBefore?: number;
  payload?: PayloadFilter;
}

/** Options of {@link SpoolOperations.alertEvents}. */
export interface AlertEventsOptions {
  /** Only this rule's events. */
  ruleId?: string;
  /** Cursor: events older than this id (the last id of the previous page). */
  before?: number;
  /** Default 100, at most 1000 (`listLimit`). */
  limit?: number;
}

/** What an operator can do to many jobs at once. */
export type BulkAction = 'retry' | 'cancel' | 'delete';

/** One bounded batch of a bulk action. Pass `next` back as `after` until it is null. */
export interface BulkResult {
  /** Jobs of this batch that matched the filter. */
  matched: number;
  /** Of those, how many the action changed. */
  changed: number;
  /** Matched jobs whose state did not allow the action (e.g. retrying a ready job). */
  skipped: number;
  /** The cursor for the next batch, or null when the filter is exhausted. */
  next: string | null;
}

/** What deleting a queue did. */
export interface QueueDeleted {
  /** Jobs deleted with the queue. */
  jobsDeleted: number;
}

/**
 * The queue and job operations a Spool offers, in process or remote. The {@link Queue}
 * handle is built on these.
 */
export interface SpoolOperations {
  /** Adds one job; resolves once it is durable. */
  add<P>(queue: string, payload: P, options?: AddOptions): Promise<Job<P>>;
  /** Adds many jobs atomically: all are stored, or none. */
  addMany<P>(queue: string, items: readonly AddItem<P>[]): Promise<Job<P>[]>;
  /**
   * Publishes to a topic (docs/routing.md): one job per queue a binding routes the topic to, all
   * written together or none. A topic that matches no binding is counted, and sent to the
   * unrouted queue if one is set.
   */
  publish<P>(topic: string, payload: P, options?: PublishOptions): Promise<Published<P>>;
  /** Routes topics matching `pattern` (`*` one word, `#` zero or more) to `queue`; a binding already there stays. */
  bind(pattern: string, queue: string): Promise<Binding>;
  /** Removes a binding; `removed: false` when there was none. */
  unbind(pattern: string, queue: string): Promise<{ removed: boolean }>;
  /** Every binding, the unrouted queue and the count of publishes that matched no binding. */
  bindings(): Promise<Bindings>;
  /** Sets where publishes that match no binding go (null: nowhere; they are only counted). */
  setUnroutedQueue(queue: string | null): Promise<void>;
  /**
   * Adds a flow (docs/flows.md): a parent job that waits until its children (in any queues) have
   * finished, then runs with their results in `job.childResults`; `onChildFailure` says what a
   * failed child does. The parent, the children and the flow are written together, or nothing.
   * @throws InvalidArgumentError (more than `flowChildrenMax` children, a bad option); QueueFullError
   */
  addFlow<P = unknown, C = unknown>(flow: FlowInput<P, C>): Promise<AddedFlow<P, C>>;
  /** A flow's tree: the parent and each child as they are now, the rule and where the flow stands. @throws JobNotFoundError when no flow has this parent */
  getFlow(parentId: string): Promise<Flow>;
  /** The job with this id. @throws JobNotFoundError */
  get<P = unknown>(id: string): Promise<Job<P>>;
  /**
   * Resolves with the job once it has finished: completed, dead or cancelled. Waits at most
   * `timeoutMs` (default 30 s, the `requestWaitMs` limit). No client-side polling: in process the
   * engine wakes the wait when it settles the job (a re-read at `pollIntervalMs` is the fallback
   * for jobs other processes settle); remotely each call is a long poll the broker answers when the job finishes.
   * @throws JobWaitTimeoutError (its `started` says whether a worker had the job; the job is not
   * cancelled); JobNotFoundError if the job does not exist or was deleted
   */
  waitJob<P = unknown>(id: string, options?: WaitJobOptions): Promise<Job<P>>;
  /**
   * Request/reply: adds a job (with `options`' add options) and resolves with the result its
   * handler returned, correlated by the job's id. On timeout the job is NOT cancelled.
   * @throws JobFailedError (with the job's last error) if it went dead or was cancelled;
   * JobWaitTimeoutError (with `jobId` and `started`) when `timeoutMs` runs out first
   */
  request<P = unknown, R = unknown>(queue: string, payload: P, options?: RequestOptions): Promise<R>;
  /**
   * Every queue's stats with its live queueing model (λ, μ, ρ, L, W, drain time) and the
   * consumers, as the process serving it measures them; `history: true` adds the last hour.
   */
  overview(options?: { history?: boolean }): Promise<Overview & { history?: OverviewHistory }>;
  /** A job's log lines (written by its handlers with `job.log()`), oldest first. @throws JobNotFoundError */
  logs(id: string): Promise<JobLogLine[]>;
  /** A page of a queue's jobs in id (creation) order. */
  list(queue: string, options?: ListOptions): Promise<Job[]>;
  /** The same page with the cursor to go on from: what a payload search needs (its pages may be short before the end). */
  listPage(queue: string, options?: ListOptions): Promise<JobPage>;
  /** Cancels a job that has not finished; a running handler is aborted. @throws JobNotFoundError, InvalidStateError */
  cancel(id: string): Promise<void>;
  /** Runs a dead or cancelled job again, or a scheduled job now. @throws JobNotFoundError, InvalidStateError */
  retry(id: string): Promise<void>;
  /** Deletes a job that is not running (cancel it first). @throws JobNotFoundError, InvalidStateError */
  deleteJob(id: string): Promise<void>;
  /** Retries, cancels or deletes one bounded batch of the jobs matching `filter`. */
  bulk(action: BulkAction, filter: JobFilter, options?: { after?: string; limit?: number }): Promise<BulkResult>;
  /** Counts per state for one queue, or for all. */
  stats(queue?: string): Promise<QueueStats[]>;
  /**
   * Resolves when the queue has no job ready, scheduled or active (every job finished: completed,
   * dead or cancelled). Waits at most `timeoutMs` (default 30 s, the `drainedWaitMs` limit).
   * @throws DrainTimeoutError when the time runs out first; QueueNotFoundError
   */
  drained(queue: string, options?: DrainedOptions): Promise<void>;
  /** Deletes every waiting job of a queue; returns how many. */
  purge(queue: string): Promise<number>;
  /** Stops (or resumes) deliveries from a queue; adds are still accepted. */
  setPaused(queue: string, paused: boolean): Promise<void>;
  /** Stores settings for a queue and returns the full settings. */
  configureQueue(name: string, input: QueueConfigInput): Promise<QueueConfig>;
  /** A queue's settings. */
  queueConfig(name: string): Promise<QueueConfig>;
  /** Deletes a queue and all its jobs; refused while jobs are running unless `force`. */
  deleteQueue(name: string, options?: { force?: boolean }): Promise<QueueDeleted>;
  /** Creates or replaces a cron or repeat schedule (see docs/cron.md); returns it as stored, with `nextAt`. */
  schedule(name: string, input: ScheduleInput): Promise<Schedule>;
  /** Every schedule, by name, with its next slot and counts. */
  schedules(): Promise<Schedule[]>;
  /** Deletes a schedule (the jobs it added stay). @throws ScheduleNotFoundError */
  unschedule(name: string): Promise<void>;
  /** Pauses a schedule: its slots get no job until resumed. @throws ScheduleNotFoundError */
  pauseSchedule(name: string): Promise<Schedule>;
  /** Resumes a schedule from its next slot after now. @throws ScheduleNotFoundError */
  resumeSchedule(name: string): Promise<Schedule>;
  /** Sets an alert rule (a new id, or a replacement); see docs/operations.md, Alerts. */
  setAlert(rule: AlertRuleInput): Promise<AlertRule>;
  /** Every alert rule with where it stands. */
  alerts(): Promise<AlertRule[]>;
  /** Deletes an alert rule; a firing one sends its resolution. @throws AlertNotFoundError */
  deleteAlert(id: string): Promise<void>;
  /** Alert firings and resolutions with their webhook delivery, newest first; `before` pages back. */
  alertEvents(options?: AlertEventsOptions): Promise<AlertEvent[]>;
  /** Runs `handler` for each job of `queue`, up to `concurrency` at once. */
  work<P = unknown, R = unknown>(queue: string, handler: Handler<P, R>, options?: WorkerOptions): Worker<P, R>;
}

/**
 * A Spool, wherever it runs: its operations, the consumer side the worker runtime uses,
 * health and lifecycle.
 * @example
 * async function report(spool: SpoolClient) {
 *   for (const s of await spool.stats()) console.log(s.queue, s.counts.ready);
 * }
 * await report(await Spool.open());
 * await report(await Spool.connect('ws://127.0.0.1:7600'));
 */
export interface SpoolClient extends SpoolOperations, ConsumerApi {
  /** Whether this Spool can reach its store (embedded) or its broker (remote) right now. */
  health(): HealthStatus;
  /** Stops workers gracefully and releases what it holds. Idempotent. */
  close(): Promise<void>;
  readonly isClosed: boolean;
}
