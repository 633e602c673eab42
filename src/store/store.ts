import type { DeadReason, Job, JobLogLine, JobState, Lease, QueueStats } from '../core/job.ts';
import type { ConcurrencyRule, JobOrder, QueueBound, QueueConfig } from '../core/queue-config.ts';
import type { AlertStore } from './alert-store.ts';
import type { NewTokenRow, TokenInfo, TokenRow, TokenUse } from './token-rows.ts';
import type { CountsByQueue, ProcessSnapshot, ProcessSnapshots } from './snapshot-rows.ts';

import type { RateBucket, RateTaken } from './rate-bucket.ts';

export type { CountsByQueue, NewTokenRow, ProcessSnapshot, ProcessSnapshots, RateBucket, RateTaken, TokenInfo, TokenRow, TokenUse };

/**
 * The Store is the seam between the engine and a database. Every method is
 * async, batch-first and atomic: either all of its effects are visible or none.
 * SQL lives only inside drivers. Differences between drivers are expressed as
 * capabilities, never as checks on the driver's kind.
 *
 * Time never comes from the store: the engine passes `now`, so a test clock
 * governs leases and delays on every driver alike.
 */
export interface Store extends AlertStore {
  readonly capabilities: StoreCapabilities;
  /** Human-readable location, e.g. the SQLite file path. */
  readonly location: string;

  /**
   * Inserts jobs atomically (addMany): all are stored, or none and it throws. Creates, in the
   * same transaction, the row of each queue that has none yet (with config `{}`: every setting
   * at its default), so a failed insert never leaves a queue behind.
   */
  jobsInsertMany(rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting>;
  /**
   * Inserts jobs that are independent of each other (the single adds of one tick, coalesced into
   * one call): one outcome per row, in order. A row the database refuses (a data error) fails
   * alone, with a SpoolError (INVALID_ARGUMENT for a value it cannot hold) naming the job, and
   * the others are stored; each queue with a stored row is created as by jobsInsertMany. Throws
   * only when the call fails as a whole (the store is unavailable): then nothing was stored.
   * A row whose idempotency key the queue already holds is not stored: its outcome is ok with
   * `existing`, the id of the job the key names; one whose unique key a live job of the queue
   * holds is not stored either: ok with `duplicateOf`, that job's id.
   */
  jobsInsertEach(rows: readonly NewJobRow[]): Promise<ItemOutcome[]>;
  /**
   * Optional: inserts inside a transaction the caller owns (see AddOptions.tx), so the jobs
   * exist if and only if it commits; creates queues as jobsInsertMany does, in that transaction.
   * Throws InvalidArgumentError for a `tx` it cannot use.
   */
  jobsInsertManyInTransaction?(tx: unknown, rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting>;
  /**
   * Deletes up to `limit` idempotency keys recorded before `before`; returns how many. It may
   * find fewer than there are (SQLite looks at the `limit` oldest-recorded only): the rest go on a
   * later call. Only space: an insert already treats a key recorded before its `since` as absent.
   */
  idempotencyKeysDelete(p: { before: number; limit: number }): Promise<number>;
  /**
   * Promotes due scheduled jobs of the queue, then leases up to `limit` ready jobs in claim order.
   * Never leases a job past its start deadline (`expiresAt`, never started): up to `limit` of
   * those it moves to dead (as jobsExpire does), in the same transaction.
   */
  jobsClaim(params: ClaimParams): Promise<Job[]>;
  /** Moves up to `limit` never-started jobs with `expiresAt` ≤ `now` to dead (`expired`); how many per queue. Index of deadlines only. */
  jobsExpire(params: { now: number; limit: number }): Promise<Record<string, number>>;
  /**
   * Acks, nacks and extends take items that are independent of each other (the calls of one
   * tick): one result per item. An item whose data the database refuses gets a miss with
   * `error` set (its lease is still held; nothing of it changed) and the others are applied.
   */
  jobsComplete(items: readonly CompleteItem[], now: number): Promise<LeaseResult[]>;
  jobsFail(items: readonly FailItem[], now: number): Promise<FailResult[]>;
  jobsExtend(items: readonly ExtendItem[], now: number): Promise<ExtendResult[]>;
  /**
   * Stores progress and appends log lines for held leases (fenced like an extend: a stale
   * lease changes nothing and gets a LeaseMiss). A job keeps its last `keepLogs` lines; older
   * ones are dropped. Progress and log live with the job and are deleted with it.
   */
  jobsReport(items: readonly ReportItem[], now: number, keepLogs: number): Promise<LeaseResult[]>;
  /** Gives leased jobs back without counting the attempt (graceful shutdown). */
  jobsRelease(leases: readonly Lease[], now: number): Promise<LeaseResult[]>;
  jobsCancel(ids: readonly string[], now: number): Promise<CancelResult[]>;
  /** Operator retry: dead or cancelled → ready with attempts reset; scheduled → ready now. */
  jobsRetry(ids: readonly string[], now: number): Promise<RetryResult[]>;
  /**
   * Operator delete: removes jobs that are not active (scheduled, ready, completed, dead,
   * cancelled), one result per id, each atomic. The statement that deletes checks the state
   * itself, so a job that became active after any earlier read (a claim in the same instant)
   * is never deleted: it comes back `deleted: false` with `previous: 'active'`.
   */
  jobsDelete(ids: readonly string[], now: number): Promise<DeleteResult[]>;
  /** Ends expired leases: back to ready, or dead when attempts or stalls are used up. */
  jobsReapExpired(params: { now: number; limit: number }): Promise<ReapedJob[]>;
  /** Moves scheduled jobs whose time has come to ready; returns the queues touched. */
  jobsPromoteDue(params: { now: number; limit: number }): Promise<string[]>;
  /** Deletes up to `limit` waiting (ready or scheduled) jobs of a queue; leased and finished ones stay. Returns how many. */
  jobsPurge(params: { queue: string; limit: number }): Promise<number>;
  /** Deletes finished jobs older than their retention; returns how many. */
  jobsDeleteFinished(params: { before: Record<'completed' | 'dead' | 'cancelled', number>; limit: number }): Promise<number>;

  jobsGet(ids: readonly string[]): Promise<(Job | null)[]>;
  /** A job's log lines, oldest first; null when no job has this id. */
  jobLogs(id: string): Promise<JobLogLine[] | null>;
  jobsList(params: ListParams): Promise<Job[]>;
  /**
   * A bounded search by a payload field, which no index serves: reads at most `scanMax` jobs of
   * the queue (in `state` and the id range, when given) in id order after `after`, and returns
   * those among them whose payload matches (and whose name is `name`, when given), at most
   * `limit`. Every job read counts toward `scanMax`, matching or not. `next` is the id where
   * the scan stopped (the last match when `limit` were found, else the last job read) when it
   * stopped before the end of the range, or null when the range is exhausted: so a page may be
   * short, or empty, while `next` is not null.
   */
  jobsSearch(params: SearchParams): Promise<SearchPage>;
  /** The earliest runAt of any scheduled job, or null. */
  jobsNextDueAt(): Promise<number | null>;

  queueStats(queue: string | null, now: number): Promise<QueueStats[]>;
  /**
   * Stores a queue's settings. When the queue's order (`jobOrderOf` of its settings) changes, the same
   * transaction recomputes the key of every waiting (ready or scheduled) job of the queue as
   * an insert with the new order would (`fifo`: no key; `fair`: each group's jobs in id order,
   * from the largest tag issued so far, and each group's last tag set to its last job's).
   */
  queueUpsert(name: string, config: QueueConfig, now: number): Promise<void>;
  /** The learned run time estimate of a job name in a queue, in ms (see CompleteItem.learn); null when none. */
  runEstimateGet(queue: string, name: string): Promise<number | null>;
  queueGet(name: string): Promise<StoredQueue | null>;
  queueList(): Promise<StoredQueue[]>;
  queueSetPaused(name: string, paused: boolean, now: number): Promise<void>;
  /**
   * One bounded step of deleting a queue, atomic: counts the queue's active jobs and, when
   * there are none or `force` is set, deletes up to `limit` of its jobs (every state, every
   * table; active ones only with `force`), then, if no job of the queue is left, its row
   * (settings, paused flag). The caller repeats it until `deleted` (see deleteQueue in
   * src/engine/operator.ts). Without `force`, an active job is never deleted, even one that
   * became active during the call. With `force`, deleted active jobs are returned in `leases`:
   * every later ack, nack or extend of theirs gets STALE_LEASE (the job no longer exists).
   */
  queueDelete(params: QueueDeleteParams, now: number): Promise<QueueDeleteResult>;

  // API tokens of the broker. The store keeps only a hash of each token, never the token.

  /**
   * Saves a new token and, in the same transaction, records that this store has had a token
   * (see tokensEnabled): the two are never seen apart.
   */
  tokensInsert(row: NewTokenRow): Promise<void>;
  /** Every token, oldest first, without its hash (a listing never needs it). */
  tokensList(): Promise<TokenInfo[]>;
  /** Deletes (revokes) tokens; returns how many existed. Never clears the record tokensEnabled reads. */
  tokensDelete(ids: readonly string[]): Promise<number>;
  /** One token with its hash, for verifying a presented token; null when unknown or revoked. */
  tokenGet(id: string): Promise<TokenRow | null>;
  /** Whether any token exists now (for the CLI's notes; the broker reads tokensEnabled). */
  tokensExist(): Promise<boolean>;
  /**
   * Whether a token was ever saved in this store, even if every one has been revoked since: a
   * durable record, kept when the last token goes. The broker's `auto` mode enforces tokens once
   * it is true, so revoking the last token never opens the broker again.
   */
  tokensEnabled(): Promise<boolean>;
  /**
   * Records that tokens were accepted at the given times: each token's `lastUsedAt` becomes the
   * later of the one stored and the one given (a late write never moves it back). Ids of tokens
   * that no longer exist are ignored. Brokers call it at most once per token per interval, not per request.
   */
  tokensMarkUsed(uses: readonly TokenUse[]): Promise<void>;

  // Rate limits: token buckets the claims of every process sharing the store draw on (see
  // src/store/rate-bucket.ts for the arithmetic, docs/scheduling.md for the guarantee).

  /**
   * Takes up to `want` whole tokens from bucket `name` at `now`, atomically: of concurrent takes
   * (other processes, other brokers), none sees tokens another took. A bucket never used starts
   * full (`burst` tokens). Parameters that differ from those stored (the limit was changed)
   * convert what it holds, in whole tokens, at most the new burst. Returns what was taken, the
   * whole tokens left, and when the next whole token is due (`now` if one is left).
   */
  rateLimitTake(p: RateBucket & { want: number; now: number }): Promise<RateTaken>;
  /**
   * Gives back `count` tokens a claim took and did not use (the queue had fewer jobs), up to the
   * bucket's size; nothing when the bucket's parameters are no longer these, or when its time is
   * no longer `since` (the `at` of the take: another take refilled it since; see rate-bucket.ts giveBack).
   */
  rateLimitGiveBack(p: RateBucket & { count: number; since: number }): Promise<void>;
  /** What bucket `name` holds at `now` (taking nothing): a full bucket when never used. */
  rateLimitRead(p: RateBucket & { now: number }): Promise<RateTaken>;

  close(): Promise<void>;

  /**
   * Optional: brings forward the end of leases whose holder is gone (a broker's connection to a
   * remote worker closed), so the lease reaper takes them back soon rather than at their
   * visibility timeout. Fenced twice: an item applies only while the job is active under
   * `lease` (its token) and its lease still ends at `expiresAt`, the end its holder last set;
   * a newer lease, or the same lease extended since (the worker reconnected elsewhere), is
   * never touched. A lease already ending by `until` is left as it is. Returns, per item,
   * whether it was shortened.
   */
  jobsShorten?(items: readonly ShortenItem[], now: number): Promise<boolean[]>;

  /**
   * Optional: subscribes to "jobs became ready in <queue>" announced by any process
   * (capability `crossProcessNotify`). Returns the unsubscribe function.
   */
  onReady?(fn: (queue: string) => void): () => void;

  // Optional, for stores shared by many processes: a registry of live processes with
  // heartbeats, and leadership for duties one process must do.

  /** Registers a process; it is presumed dead once `ttlMs` passes without a heartbeat. */
  workerRegister?(worker: WorkerRegistration, now: number, ttlMs: number): Promise<void>;
  /** Renews a registration. False when it is gone: the process was presumed dead and its leases were taken back. */
  workerHeartbeat?(id: string, now: number, ttlMs: number): Promise<boolean>;
  workerUnregister?(id: string): Promise<void>;
  /**
   * Ends the leases held by dead processes (as expired attempts) and forgets those processes.
   * `self`, the calling process's own registration, is never presumed dead: a process that
   * runs this is alive, whatever its registration says (it may have paused past it).
   */
  workersReapDead?(params: { now: number; limit: number; self?: string | null | undefined }): Promise<ReapedJob[]>;
  /** Runs `duty` only while this process holds leadership `name`; see the driver for the fencing it gives. */
  asLeader?<T>(name: string, holder: string, leaseMs: number, duty: (store: Store) => Promise<T>): Promise<{ led: true; value: T } | { led: false }>;
  leaderResign?(name: string, holder: string): Promise<void>;
  /** Optional upkeep the leader runs now and then outside any transaction (PostgreSQL: vacuum the hot table). Returns whether it did anything. */
  tablesVacuum?(): Promise<boolean>;
  /**
   * Optional, for a store that keeps its job counts as deltas (PostgreSQL): folds the deltas
   * written since the last call into the counts. queueStats is exact with or without it; the
   * leader runs it every tick so what queueStats reads stays small.
   */
  countsRollup?(): Promise<void>;

  // Optional, for the cluster-wide queueing model: each process publishes a snapshot of itself
  // (its cumulative counts, what it holds now), one row per process, written only by that process.

  /**
   * Writes the snapshot of process `snapshot.id`, replacing its last one. With `mustExist`, writes
   * only over a row that is there and returns false (nothing written) when there is none: the row
   * was retired (see processSnapshotsRetire) and its counts are in the retired sums.
   */
  processSnapshotPut?(snapshot: ProcessSnapshot, mustExist: boolean): Promise<boolean>;
  /** Every process's snapshot and the retired sums, in one consistent read. */
  processSnapshotsRead?(): Promise<ProcessSnapshots>;
  /**
   * Atomically adds the counts of every snapshot published before `before` to the retired sums
   * (field by field, per queue) and deletes those snapshots, so the sums over the snapshots and
   * the retired ones never go down; drops the retired sums of queues that no longer exist.
   * Returns how many snapshots it retired.
   */
  processSnapshotsRetire?(params: { before: number }): Promise<number>;
}

export interface WorkerRegistration {
  id: string;
  host: string;
  pid: number;
}

export interface StoreCapabilities {
  /** Writes by other processes are announced (e.g. LISTEN/NOTIFY); without it, consumers poll as a fallback. */
  readonly crossProcessNotify: boolean;
  /** What an acknowledged write survives, printed beside benchmark figures. */
  readonly durability: string;
}

export interface NewJobRow {
  id: string;
  queue: string;
  name: string;
  /** JSON text. */
  payload: string;
  priority: number;
  runAt: number;
  state: 'ready' | 'scheduled';
  maxAttempts: number;
  maxStalls: number;
  /** Longest one attempt may run before the worker aborts it and fails the attempt; 0: no limit. */
  timeoutMs: number;
  /** JSON text of the job's W3C trace context (a `JobTrace`), or null for none. */
  trace: string | null;
  /** The job's group (tenant, customer), or null for none. Stored as `group_key`. */
  group: string | null;
  /** The job's start deadline (createdAt + ttlMs); null or absent for none. Stored as `expire_at`. */
  expiresAt?: number | null;
  createdAt: number;
  /**
   * The add's idempotency key, if any (see AddOptions.idempotencyKey). The store records
   * (queue, key) → id in the transaction of the insert; when the queue already holds the key,
   * recorded at or after `since` (older records are past the window: replaced), the row is not
   * stored and the id the key names is returned instead (see {@link InsertExisting}). A key
   * given twice in one call stores the first row only.
   */
  idempotency?: { key: string; since: number } | null;
  /**
   * The bound of the row's queue (its `maxLength` and `overflow` settings), or null/absent for an
   * unbounded queue, which costs nothing more. The store enforces it exactly, in the insert's own
   * transaction, counting the queue's jobs waiting to start (ready and scheduled) after the insert,
   * so an idempotent replay (nothing stored) never counts:
   * - `reject`: a row that would take the count past `maxLength` is not stored: jobsInsertMany
   *   throws QueueFullError (nothing of the call is stored), jobsInsertEach gives that row the
   *   error and stores the others that fit.
   * - `drop-oldest`: the rows are stored, then the oldest waiting jobs of the queue (by id: the
   *   order of their adds), as many as the count is over `maxLength`, become dead with deadReason
   *   `dropped` (so a batch larger than the bound keeps its newest `maxLength` jobs waiting).
   * Stores shared by processes serialize the bounded inserts of a queue (PostgreSQL: an advisory
   * lock on the queue held to the end of the transaction), so concurrent adds never together
   * pass the bound. Jobs that come back to waiting (a retry, a released or reaped lease) are
   * never refused: the bound is on adds.
   */
  bound?: QueueBound | null;
  /** The declared cost (AddOptions.cost); null or absent for none. Stored as `cost`. */
  cost?: number | null;
  /** The concurrency key (AddOptions.concurrencyKey); null or absent for none. Stored as `concurrency_key`. */
  concurrencyKey?: string | null;
  /**
   * How the job is keyed for a queue that is not `fifo` (see {@link JobOrder}); null or absent:
   * `fifo`, no key (its claims read the priority index alone). The store computes the key in
   * the insert's transaction and stores it as `sort_key`:
   * - `priority`: runAt − priority × agingMs;
   * - `sjf`: runAt + c × costFactor, with c the declared cost, else the queue's learned
   *   estimate for the job's name (see {@link CompleteItem.learn}), else 0;
   * - `fair`: a virtual finish tag max(V, last[group]) + 1 / weight, with V the smallest key
   *   among the queue's ready keyed jobs (or the largest tag issued in the queue if none) and
   *   last[group] the group's last tag, kept per (queue, group) and updated in the same
   *   transaction; jobs without a group form one group.
   */
  order?: JobOrder | null;
  /**
   * The add's unique key (AddOptions.uniqueKey); null or absent for none, which costs nothing
   * more. Stored as `unique_key`, under a unique index over the live (scheduled, ready, active)
   * jobs of the queue that have one: while a live job of the queue holds the key, the row is not
   * stored and the holder's id is returned instead, as `{ duplicateOf }` (see
   * {@link InsertExisting}). Nothing else is written for a duplicate: not its idempotency key
   * either (an idempotency key the queue already holds is checked first, and wins). A key given
   * twice in one call stores the first row only; the later rows are duplicates of it. A job
   * leaves the index when it leaves the live states, in the statements that already move it
   * (complete, fail to dead, cancel, delete): nothing more on those paths. An operator retry of
   * a dead or cancelled job brings it back without its key.
   */
  uniqueKey?: string | null;
  /**
   * With a unique key: until when (createdAt + uniqueWindowMs) the job holds it even once
   * finished (completed, dead, cancelled): a row whose key a finished job of the queue holds
   * until after the insert's `createdAt` is a duplicate of it too (the live holder, if any,
   * first). Null or absent: only while live. A deleted job (retention, an operator) holds nothing.
   */
  uniqueUntil?: number | null;
}

/** A row not stored because a live job of its queue holds its unique key: that job's id. */
export interface Duplicate {
  duplicateOf: string;
}

/**
 * Per row of an insert, in order: the id of the job its idempotency key already named (the row
 * was not stored), `{ duplicateOf }` when a live job holds its unique key (not stored either),
 * or null (stored). Stores return nothing (void) when no row has a key of either kind.
 */
export type InsertExisting = readonly (string | Duplicate | null)[];

/**
 * What an insert tells besides its outcome: the jobs it dropped from bounded queues (overflow
 * `drop-oldest`), added to `dropped` per queue. The caller counts them (telemetry).
 */
export interface InsertReport {
  dropped: Record<string, number>;
}

export interface ClaimParams {
  queue: string;
  limit: number;
  leaseMs: number;
  now: number;
  /** The claiming process's registration, so its leases can be released if it dies. */
  workerId?: string | undefined;
  /**
   * Claim by sort key (the queue's policy is not `fifo`): ready jobs with a key, lowest key
   * then id first; when those run out, jobs without one (added by a process that had not yet
   * seen the queue's policy) in the fifo order. Absent or false: the fifo order alone.
   */
  byKey?: boolean | undefined;
  /**
   * The queue's per-key concurrency limits and group FIFO (absent: none, and the claim is the
   * plain one). Each job leased must leave, counting the jobs active when the claim runs and
   * those it leases together:
   * - at most the key's limit (`limits[key]`, else `limit`; neither: none) active jobs of its
   *   `concurrencyKey`; jobs without a key are not limited;
   * - with `groupFifo`, at most one active job of its `group`, and only the group's first job by
   *   id among those waiting (ready or scheduled) is leased, so a group's jobs start in the order
   *   of their adds and a job waiting for a retry holds its group back; jobs without a group are
   *   not affected.
   * The active jobs are the slots: a settle, release or reap frees one in the statement that
   * ends the lease. Stores shared by processes serialize such claims of a queue (PostgreSQL: an
   * advisory lock on the queue held to the end of the claim's transaction) so that concurrent
   * claims never together pass a limit. Order otherwise as without (byKey or fifo).
   */
  concurrency?: ConcurrencyRule | undefined;
}

export interface CompleteItem {
  lease: Lease;
  /** JSON text or null. */
  result: string | null;
  /**
   * Queues with policy `sjf`: learn this run. When the ack applies, the store folds `runMs`
   * into its estimate for (`queue`, `name`), an exponentially weighted mean giving the newest
   * sample `weightPct` percent (the first sample is taken as it is). Several samples of one
   * name in one call may be folded as their mean.
   */
  learn?: { queue: string; name: string; runMs: number; weightPct: number };
}

export interface FailItem {
  lease: Lease;
  error: string;
  /** When to run again if attempts remain. */
  retryAt: number;
  /** Skip the remaining attempts. */
  unrecoverable: boolean;
}

/** What a lease holder reports while its handler runs: progress, log lines, or both. */
export interface ReportItem {
  lease: Lease;
  /** JSON text of the job's new progress value (replaces the last one); absent: leave it. */
  progress?: string;
  /** Lines to append to the job's log, oldest first, each already cut to its limit. */
  logs?: readonly JobLogLine[];
}

export interface ExtendItem {
  lease: Lease;
  leaseMs: number;
  /**
   * Shared stores: the registered process the lease belongs to from now on. An extend
   * through another broker (a client that reconnected elsewhere) takes the lease over, so
   * the lease no longer dies with the process that first delivered it.
   */
  workerId?: string;
}

/** One lease to end sooner: see Store.jobsShorten. */
export interface ShortenItem {
  lease: Lease;
  /** When the lease ends as its holder last knew it (from the claim or its last extend): the fence. */
  expiresAt: number;
  /** The new end of the lease (earlier than `expiresAt`). */
  until: number;
}

/**
 * Why an operation that needs a held lease did not apply: the job's current state and token (the
 * lease is stale), or, with `error`, the database refused this item's data (e.g. a value PostgreSQL
 * cannot hold): then nothing of the item changed, its lease is still held, `state` and `token`
 * are null (not read), and the caller should throw `error`, not a stale-lease error.
 */
export type LeaseMiss = { ok: false; state: JobState | null; token: number | null; error?: Error };
/** Outcome of an operation that needs a held lease. When not ok, see {@link LeaseMiss}. */
export type LeaseResult = { ok: true } | LeaseMiss;
export type FailResult = { ok: true; state: JobState; deadReason: DeadReason | null } | LeaseMiss;
export type ExtendResult = { ok: true; leaseExpiresAt: number } | LeaseMiss;
/** Outcome of one item of a call whose items succeed or fail alone (see Store.jobsInsertEach). */
export type ItemOutcome = { ok: true; existing?: string; duplicateOf?: string; dropped?: number } | { ok: false; error: Error };
/** `token`: the job's lease token when it was found, so a cancelled lease is revoked by (job, token), never by job alone. */
export type CancelResult = { found: false } | { found: true; queue: string; previous: JobState; token: number; cancelled: boolean };
export type RetryResult = { found: false } | { found: true; queue: string; previous: JobState; retried: boolean };
/** `deleted` is false only for an active job (`previous: 'active'`): an active job is cancelled first, then deleted. */
export type DeleteResult = { found: false } | { found: true; queue: string; previous: JobState; deleted: boolean };

export interface QueueDeleteParams {
  name: string;
  /** Delete active jobs too (their leases become stale); without it, a queue with active jobs is refused. */
  force: boolean;
  /** Most jobs deleted by this step (across the tables of the store). */
  limit: number;
}

export interface QueueDeleteResult {
  /** The queue has (had) a row, or this step found jobs of it. */
  found: boolean;
  /** The queue is gone after this step: it was found, no job of it is left, and its row (if it had one) was deleted. */
  deleted: boolean;
  /** Active jobs of the queue: without `force`, how many there are (then nothing was deleted); with it, how many this step deleted. */
  activeJobs: number;
  /** Jobs this step deleted, in every state. */
  jobsDeleted: number;
  /** With `force`: the leases of the active jobs this step deleted, so the caller can revoke exactly those deliveries. */
  leases: Lease[];
}

export interface ReapedJob {
  id: string;
  /** The token of the lease that ended: only the delivery holding it may be revoked (the job may have been leased again since). */
  token: number;
  queue: string;
  state: JobState;
  deadReason: DeadReason | null;
}

export interface ListParams {
  queue: string;
  state?: JobState | undefined;
  /** Return jobs with ids after this one (cursor). */
  after?: string | undefined;
  /** Only jobs with this name (exact match). No index serves it: a page reads the queue's jobs (in `state`, if given) from the cursor until it has `limit` matches. */
  name?: string | undefined;
  /**
   * Only jobs of this group (exact match). An index holds it (queue, group_key, id): a page reads
   * the group's jobs from the cursor, and a state or name filter applies to those alone.
   */
  group?: string | undefined;
  /**
   * Only ids ≤ this (inclusive): the upper end of a creation time range (jobIdBounds(ms).last).
   * Its lower end is folded into `after` (jobIdBounds(ms).below), so both ends are bounds of one
   * index range: the list reads nothing outside it.
   */
  to?: string | undefined;
  limit: number;
}

/** A payload field and the JSON scalar it must equal (numbers as numbers, strings as strings). */
export interface PayloadMatch {
  /** Object keys from the payload's root, each `[A-Za-z0-9_-]{1,64}`, at most 8: never an array index. */
  path: readonly string[];
  equals: string | number | boolean | null;
}

export interface SearchParams extends ListParams {
  payload: PayloadMatch;
  /** Most jobs the call reads (searchScanMax). */
  scanMax: number;
}

export interface SearchPage {
  jobs: Job[];
  /** Where the scan stopped, to pass as `after`; null when nothing of the range is left. */
  next: string | null;
}

export interface StoredQueue {
  name: string;
  /**
   * As stored: a queue created by its first job (jobsInsertMany) holds `{}`, meaning every
   * setting at its default; read it with `resolveQueueConfig(config, defaultQueueConfig())`.
   */
  config: QueueConfig;
  paused: boolean;
  createdAt: number;
  updatedAt: number;
}
