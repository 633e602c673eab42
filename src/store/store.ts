import type { Job, JobLogLine, Lease, QueueStats } from '../core/job.ts';
import type { QueueConfig } from '../core/queue-config.ts';
import type { AlertStore } from './alert-store.ts';
import type { ConsumerAnnouncement } from './queue-stats.ts';
import type { ScheduleStore } from './schedule-store.ts';
import type { FlowStore } from './flow-store.ts';
import type { NewTokenRow, TokenInfo, TokenRow, TokenUse } from './token-rows.ts';
import type { CountsByQueue, ProcessSnapshot, ProcessSnapshots } from './snapshot-rows.ts';

import type { RateBucket, RateTaken } from './rate-bucket.ts';
import type { PublishItem, PublishOutcome, RoutingRow } from './routing-rows.ts';
import type {
  CancelResult, ClaimedJobs, ClaimParams, CompleteItem, DeleteResult, ExtendItem, ExtendResult, FailItem, FailResult,
  InsertExisting, InsertReport, ItemOutcome, LeaseResult, ListParams, NewJobRow, QueueDeleteParams, QueueDeleteResult,
  ReapedJob, ReportItem, RetryResult, SearchPage, SearchParams, ShortenItem, StoreCapabilities, StoredQueue,
  WorkerRegistration,
} from './store-types.ts';

export type { ConsumerAnnouncement };
export type { FlowSelection, FlowSettled, NewFlow, StoredFlow } from './flow-store.ts';
export type { PublishItem, PublishOutcome, RoutingRow, StoredBinding } from './routing-rows.ts';
export type { CountsByQueue, NewTokenRow, ProcessSnapshot, ProcessSnapshots, RateBucket, RateTaken, TokenInfo, TokenRow, TokenUse };
// The rows, parameters and results of the methods below live in store-types.ts.
export type {
  CancelResult, ClaimedJobs, ClaimParams, CompleteItem, DeleteResult, Duplicate, ExtendItem, ExtendResult, FailItem, FailResult,
  InsertExisting, InsertReport, ItemOutcome, LeaseMiss, LeaseResult, ListParams, NewJobRow, PayloadMatch,
  QueueDeleteParams, QueueDeleteResult, ReapedJob, ReportItem, RetryResult, SearchPage, SearchParams, ShortenItem,
  StoreCapabilities, StoredQueue, WorkerRegistration,
} from './store-types.ts';

/**
 * The Store is the seam between the engine and a database. Every method is
 * async, batch-first and atomic: either all of its effects are visible or none.
 * SQL lives only inside drivers. Differences between drivers are expressed as
 * capabilities, never as checks on the driver's kind.
 *
 * Time never comes from the store: the engine passes `now`, so a test clock
 * governs leases and delays on every driver alike.
 */
export interface Store extends AlertStore, ScheduleStore, FlowStore {
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
  jobsClaim(params: ClaimParams): Promise<ClaimedJobs>;
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

  /** What bucket `name` holds at `now` (taking nothing): a full bucket when never used. */
  rateLimitRead(p: RateBucket & { now: number }): Promise<RateTaken>;
  /**
   * Deletes the per-key buckets (names `key:…`, see keyBucketName) that are full at `now`: a
   * key without a row has a full bucket, so nothing a claim sees changes. Reads at most `limit`
   * rows after the name `after` ('' to start); returns how many it deleted and where to go on
   * (null: the end was reached).
   */
  rateLimitsDropFull(p: { now: number; after: string; limit: number }): Promise<{ deleted: number; next: string | null }>;

  // Topic routing (docs/routing.md): bindings of patterns to queues, and publishes that write one
  // copy per bound queue in the transaction that checks the routing they were made by.

  /** The routing in one consistent read. */
  routingRead(): Promise<RoutingRow>;
  /**
   * Stores a binding and raises the routing version, in one transaction; false (nothing changed)
   * when the store already holds it. Refused (InvalidArgumentError, field `pattern`) when the
   * store holds `max` bindings already.
   */
  bindingPut(p: { pattern: string; queue: string; now: number; max: number }): Promise<boolean>;
  /** Deletes a binding and raises the routing version; false (nothing changed) when there was none. */
  bindingDelete(p: { pattern: string; queue: string }): Promise<boolean>;
  /** Sets (or, with null, clears) the unrouted queue and raises the routing version. */
  unroutedQueueSet(queue: string | null): Promise<void>;
  /**
   * Publishes that are independent of each other (those of one tick): one outcome per item, in
   * order. Each is one transaction (PostgreSQL: a batch of them may share one) that reads the
   * routing version (PostgreSQL: FOR SHARE, so no bind or unbind commits between that read and
   * the publish's commit), then, if it is the item's, inserts every row as jobsInsertMany does
   * (queues created, bounds enforced: a full `reject` queue fails the whole item) and counts an
   * unrouted item. Throws only when the call fails as a whole: then nothing of it was stored.
   */
  topicPublishEach(items: readonly PublishItem[]): Promise<PublishOutcome[]>;

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

  /**
   * Optional (with `onReady`): announces to every process that jobs of `queue` are ready, as an
   * insert does; for jobs added with `served` that this process's consumers did not take after all.
   */
  announceReady?(queue: string): Promise<void>;

  /**
   * Optional: the lease token of a job its insert leased (NewJobRow.lease): a token no claim of
   * this store has given or will give that job (a claim's is one above the job's last, and above
   * any lease epoch). A store without it is never given such rows.
   */
  readonly insertLeaseToken?: number;

  // Optional, for stores shared by many processes: a registry of live processes with
  // heartbeats, and leadership for duties one process must do.

  /** Registers a process; it is presumed dead once `ttlMs` passes without a heartbeat. */
  workerRegister?(worker: WorkerRegistration, now: number, ttlMs: number): Promise<void>;
  /** Renews a registration. False when it is gone: the process was presumed dead and its leases were taken back. */
  workerHeartbeat?(id: string, now: number, ttlMs: number): Promise<boolean>;
  /** Replaces what a registered process consumes (WorkerRegistration.consumers); nothing when it is not registered. */
  workerAnnounce?(id: string, consumers: readonly ConsumerAnnouncement[]): Promise<void>;
  workerUnregister?(id: string): Promise<void>;
  /**
   * Optional, for a store served by a machine of its own (PostgreSQL): the server's clock, in
   * epoch ms. Every process on the store keeps its time by it (src/core/shared-clock.ts), so a
   * delay or lease set by one process ends at the same moment for every other, whatever their
   * machines' clocks say.
   */
  storeTime?(): Promise<number>;
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
