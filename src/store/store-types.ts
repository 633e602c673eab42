/** The rows, parameters and results of the Store's methods (the interface itself is in store.ts, which re-exports these). */
import type { DeadReason, Job, JobLogLine, JobState, Lease } from '../core/job.ts';
import type { ConsumerAnnouncement } from './queue-stats.ts';
import type { ConcurrencyRule, JobOrder, QueueBound, QueueConfig } from '../core/queue-config.ts';
import type { KeyRateRule, RateBucket } from './rate-bucket.ts';

export interface WorkerRegistration {
  id: string;
  host: string;
  pid: number;
  /**
   * What the process consumes (resource-aware dispatch): per queue and set of resource tags, the
   * capacity of its consumers. Absent: none yet. Queue stats count the ready jobs whose
   * `requires` no live registration's consumers of their queue cover (QueueStats.unservable).
   */
  consumers?: readonly ConsumerAnnouncement[];
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
   * The resource tags the job requires (AddOptions.requires), canonical (sorted, without
   * repeats) and joined by commas, e.g. `gpu,region:eu`; null or absent for none. Stored as
   * `requires`; only a claim whose `tags` include every one of them leases the job.
   */
  requires?: string | null;
  /**
   * Set when a consumer in the adding process will claim the job itself (it had room for it), so
   * other processes need no wake-up: a store that wakes them (PostgreSQL's NOTIFY) skips it for
   * an insert whose ready rows all have it. Not stored. The process wakes others itself if its
   * consumers do not take the job after all (see `announceReady`).
   */
  served?: boolean;
  /**
   * Leased by its own insert to the adding process (the engine's hand-off to its idle consumers,
   * see Intake): stored `active`, attempt 1, with the store's `insertLeaseToken`, lease until
   * `expiresAt`, owned by `workerId` (the process's registration, null without one), started at
   * `createdAt`, as a claim right after the insert would leave it, and counted active. Only on
   * ready rows of an unbounded queue, and only by a store with `insertLeaseToken`. Not stored.
   */
  lease?: { workerId: string | null; expiresAt: number } | null;
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
  /**
   * The claiming worker's resource tags, canonical (sorted, without repeats). Every claim leases
   * only jobs whose `requires` are all among them: jobs without `requires` are anyone's, and a
   * claim without tags (absent or empty) takes only those. Jobs it cannot take are passed over,
   * never moved; the claim order among the others is unchanged.
   */
  tags?: readonly string[] | undefined;
  /**
   * The queue's rate limit bucket (absent: none). In the claim's own transaction the store
   * leases at most as many jobs as the bucket holds whole tokens and takes exactly one token per
   * job leased, atomically with the lease: of concurrent claims on one bucket (other queues of
   * its limiter, other processes), none sees tokens another took. A bucket never used starts
   * full; parameters that differ from those stored convert what it holds (see rate-bucket.ts).
   * When the bucket held jobs back (it had fewer tokens than `limit` and every one was used),
   * the result's `heldUntil` is when its next whole token is due.
   */
  rate?: RateBucket | undefined;
  /**
   * Per-key rate limits (absent: none): each job's `concurrencyKey` has its own bucket
   * (`keyBucketName(queue, key)`). The claim passes over jobs whose key has no whole token left
   * (counting the jobs of the key it leases before them) and takes one token of each leased
   * job's key, in the same transaction; jobs without a key are not limited. The claim runs as
   * the limited one, even when no key could reach a concurrency limit (see `concurrency`: stores
   * shared by processes serialize it per queue, so no two claims spend a key's token twice). When it leased fewer than `limit` and left jobs behind
   * only for lack of their key's tokens, `heldUntil` is the earliest next token of those keys.
   */
  keyRate?: KeyRateRule | undefined;
}

/**
 * The jobs a claim leased, in claim order. `heldUntil` (clock ms) is set when a rate limit of
 * the claim (ClaimParams.rate, keyRate) held jobs back: when the next token that may let one
 * start is due, so the engine wakes the queue then rather than polling.
 */
export type ClaimedJobs = Job[] & { heldUntil?: number };

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
/** `flowParent`: the job is a child of a flow (docs/flows.md) and just finished; the engine settles that flow next. */
export type LeaseResult = { ok: true; flowParent?: string } | LeaseMiss;
export type FailResult = { ok: true; state: JobState; deadReason: DeadReason | null; flowParent?: string } | LeaseMiss;
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
