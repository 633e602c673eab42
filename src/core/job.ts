import type { ChildResult } from './flow-types.ts';

/** Where a job is in its life. See docs/architecture.md for the diagram. */
export type JobState = 'scheduled' | 'ready' | 'active' | 'completed' | 'dead' | 'cancelled';

export const JOB_STATES: readonly JobState[] = ['scheduled', 'ready', 'active', 'completed', 'dead', 'cancelled'];

/** States no operation ever leaves (except an explicit operator retry of dead or cancelled jobs). */
export const FINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'dead', 'cancelled']);

/** Why one attempt ended. */
export type AttemptOutcome =
  | 'completed' // the handler returned
  | 'failed' // the handler threw
  | 'expired' // the lease ran out: the worker died or stalled
  | 'released' // the worker gave the job back on graceful shutdown; does not count against maxAttempts
  | 'cancelled'; // the job was cancelled while running

/** Why a job ended up dead. */
export type DeadReason = 'max-attempts' | 'poison' | 'unrecoverable' | 'expired' | 'dropped' | 'child-failed';

/** The last error of a job that was not started within its `ttlMs` (its deadReason is `expired`). */
export const EXPIRED_ERROR = 'expired: not started within ttlMs';

/** The last error of a waiting job an add to its full queue dropped (overflow `drop-oldest`; its deadReason is `dropped`). */
export const DROPPED_ERROR = 'dropped: the oldest waiting job of a full queue (maxLength, overflow drop-oldest)';

/** The record of one delivery of a job. */
export interface AttemptRecord {
  /** The attempt number this delivery ran as (released deliveries do not advance it). */
  attempt: number;
  /** The lease token of this delivery. */
  token: number;
  startedAt: number;
  endedAt: number;
  outcome: AttemptOutcome;
  error?: string;
}

/** A job as stored. Times are Unix epoch milliseconds. */
export interface Job<P = unknown> {
  /** Time-sortable unique id (UUIDv7). */
  id: string;
  queue: string;
  /** Free-form job name (defaults to `default`), useful when one queue carries several kinds. */
  name: string;
  payload: P;
  /** Higher runs first. */
  priority: number;
  state: JobState;
  /** When the job is (or became) ready to run: it orders jobs of equal priority. */
  runAt: number;
  /** Attempts counted so far, including the running one. Released attempts are not counted. */
  attempt: number;
  maxAttempts: number;
  /** Times its lease expired (worker crash or stall). */
  stalls: number;
  maxStalls: number;
  /** The current lease token (one per delivery); acks must carry it. 0 = never delivered. */
  leaseToken: number;
  /** When the current lease runs out, if active. */
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  lastError: string | null;
  result: unknown;
  deadReason: DeadReason | null;
  history: AttemptRecord[];
  /**
   * Longest one attempt may run, in ms (0: no limit): past it the handler's signal aborts with a
   * JobTimeoutError and the attempt fails. From the add option, else the queue's `timeoutMs`.
   */
  timeoutMs: number;
  /** The last value a handler reported with `job.updateProgress()`, or null. */
  progress: unknown;
  /**
   * The W3C trace context of the span that was active where the job was added (or the `trace`
   * add option), or null: with OpenTelemetry on, a worker's `process` span links to it.
   */
  trace: JobTrace | null;
  /**
   * The group (tenant, customer) the job belongs to, from the `group` add option, or null when
   * it was added without one. Listings and bulk actions can filter by it.
   */
  group: string | null;
  /**
   * When the job must have started (been leased for the first time) by, in Unix ms: its add time
   * plus the `ttlMs` add option; null when it was added without one. A job not started by then is
   * never run: it becomes dead with deadReason `expired`. Once started, it no longer applies.
   */
  expiresAt: number | null;
  /**
   * The job's declared cost (its expected run time in ms), from the `cost` add option, or null
   * when it was added without one. A queue with policy `sjf` serves cheaper jobs first.
   */
  cost: number | null;
  /**
   * Set (true) only on a job that an add returned instead of storing a new one: the add's
   * `uniqueKey` was held by this live job. Absent everywhere else (reads, deliveries).
   */
  duplicate?: true;
  /**
   * The key the job's queue limits concurrency by (the `concurrencyKey` add option: a tenant, a
   * customer, an account), or null when it was added without one. A queue's `concurrencyLimit`
   * (or its `concurrencyLimits` entry for the key) caps how many jobs of one key are active at once.
   */
  concurrencyKey: string | null;
  /**
   * The resource tags a worker must carry to lease the job (the `requires` add option, e.g.
   * `['gpu', 'region:eu']`), without repeats and sorted; empty when any worker may take it.
   */
  requires: string[];
  /**
   * Only on the parent of a flow (docs/flows.md), once its children have finished: how each
   * ended (in the order they were given), with its result or error. Absent on every other job.
   */
  childResults?: ChildResult[];
}

/**
 * A W3C trace context (https://www.w3.org/TR/trace-context/) as a job carries it: the
 * `traceparent` and `tracestate` header values of the span that added the job.
 */
export interface JobTrace {
  /** `version-traceid-parentid-flags` in lowercase hex, e.g. `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`. */
  traceparent: string;
  /** Vendor entries (`key=value,…`), at most 512 characters; absent when the span had none. */
  tracestate?: string;
}

/** What a lease holder reports about a running job: a new progress value, log lines, or both. */
export interface JobReport {
  /** Replaces the job's progress (any JSON value up to progressMaxBytes). */
  progress?: unknown;
  /** Lines to append to the job's log; each is cut to jobLogLineMaxBytes, and a job keeps its last jobLogMax lines. */
  logs?: readonly string[];
}

/** One line a handler wrote with `job.log()`. */
export interface JobLogLine {
  /** When it was written (Unix ms). */
  at: number;
  /** The attempt that wrote it. */
  attempt: number;
  line: string;
}

/** Proof of a delivery: the job id and the lease token it was delivered with. */
export interface Lease {
  jobId: string;
  token: number;
}

/**
 * A lease as a map key. Whatever tracks deliveries keys them by (job id, token), never by
 * job id alone: a job leased again gets a new token, so a stale delivery and the current
 * one never share a key, and a revoke meant for one cannot reach the other.
 */
export const leaseKey = (lease: Lease): string => `${lease.jobId}/${lease.token}`;

/** Counts per state and the age of the oldest ready job. */
export interface QueueStats {
  queue: string;
  counts: Record<JobState, number>;
  /** Milliseconds the oldest ready job has waited, 0 if none. */
  oldestReadyAgeMs: number;
  paused: boolean;
  /**
   * Only for a queue with a rate limit: while the limit holds ready jobs back (its bucket has no
   * whole token), when the next token is due (Unix ms); null while it holds nothing back.
   */
  heldUntil?: number | null;
  /** Jobs waiting to start (ready and scheduled): what the queue's `maxLength` bounds. */
  length: number;
  /**
   * The queue's bound (its `maxLength` setting), null when it has none; filled in by the engine
   * from the queue's settings (at most settingsRefreshMs old): a store's own stats leave it null.
   */
  maxLength: number | null;
  /** What an add past `maxLength` does (its `overflow` setting). */
  overflow: 'reject' | 'drop-oldest';
  /**
   * Ready jobs of the queue that no live worker can take: their `requires` (resource tags) are
   * not all among the tags of any worker consuming the queue whose process's registration is
   * live (renewed within its heartbeat bound). Jobs without `requires` never count. 0 when every
   * ready job can be taken.
   */
  unservable: number;
}

/** An empty count record. */
export function emptyCounts(): Record<JobState, number> {
  return { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 };
}

/** Claim order: higher priority first, then earlier ready time, then id (FCFS within a priority). */
export function compareClaimOrder(a: Job, b: Job): number {
  return b.priority - a.priority || a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
