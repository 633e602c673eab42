import { resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { ClosedError, InvalidArgumentError } from '../../core/errors.ts';
import type { Job, JobLogLine, Lease, QueueStats } from '../../core/job.ts';
import { checkLimit, describe } from '../../core/limits.ts';
import { checkOptionKeys } from '../../core/options.ts';
import type { QueueConfig } from '../../core/queue-config.ts';
import type {
  CancelResult, ClaimedJobs, ClaimParams, CompleteItem, DeleteResult, Duplicate, ExtendItem, ExtendResult, FailItem, FailResult, InsertExisting, ItemOutcome, LeaseResult,
  ListParams, NewJobRow, SearchPage, SearchParams, QueueDeleteParams, QueueDeleteResult, ReapedJob, ReportItem, RetryResult, Store, StoreCapabilities, StoredQueue, TokenInfo,
  TokenRow, NewTokenRow, TokenUse, ProcessSnapshot, ProcessSnapshots, RateBucket, RateTaken, ShortenItem, WorkerRegistration, InsertReport, ConsumerAnnouncement, PublishItem, PublishOutcome, RoutingRow,
} from '../store.ts';
import type { QueueBound } from '../../core/queue-config.ts';
import { GroupCommit } from './group-commit.ts';
import { WalSync } from './wal-sync.ts';
import { openDatabase } from './open.ts';
import * as admin from './admin.ts';
import * as claims from './claims.ts';
import * as queues from './queues.ts';
import * as ordering from './ordering.ts';
import * as reads from './reads.ts';
import * as leases from './leases.ts';
import { refusedItemError } from './sqlite-errors.ts';
import { prepareStatements } from './statements.ts';
import { outcomeOf, STORED, storeRow } from './publish-keys.ts';
import { SqliteSnapshots } from './snapshots.ts';
import { SqliteTokens } from './tokens.ts';
import { CountLedger } from './count-ledger.ts';
import { SqliteBounds } from './bounds.ts';
import { SqliteAlerts } from './alerts.ts';
import { SqliteSchedules } from './schedules.ts';
import type { ScheduleFiring } from '../schedule-store.ts';
import type { Schedule, ScheduleDefinition } from '../../core/schedule.ts';
import { SqliteRateLimits } from './rate-limits.ts';
import { SqliteWorkers } from './workers.ts';
import { SqliteRouting } from './routing.ts';
import { SqliteFlows } from './flows.ts';
import type { FlowSelection, FlowSettled, NewFlow, StoredFlow } from '../flow-store.ts';
import type { AlertDelivery, AlertDeliveryOutcome, AlertEvaluation, StoredAlertRule } from '../alert-store.ts';
import type { AlertEvent, CheckedAlertRule } from '../../alerts/rules.ts';
import { firstToken } from './claim-statements.ts';

/**
 * What an acknowledged write survives.
 * - `fsync` (default): every acknowledged add, ack or nack has been synced to disk; survives power loss.
 * - `no-fsync`: survives a crash or `kill -9` of the process, but an OS crash or power loss may lose the
 *   last writes. Faster where fsync is slow.
 */
export type SqliteDurability = 'fsync' | 'no-fsync';

export interface SqliteStoreOptions {
  /** Database file, or `:memory:` for a private in-memory database. */
  path: string;
  durability?: SqliteDurability;
  busyTimeoutMs?: number;
  historyMax?: number;
  /** Caps the database file's size; writes past it fail with a clear 'full' error. Default: no cap (the disk is the limit). */
  maxDatabaseBytes?: number;
}

/** Every key of {@link SqliteStoreOptions}; others are refused. */
const SQLITE_OPTIONS: Record<keyof SqliteStoreOptions, true> = { path: true, durability: true, busyTimeoutMs: true, historyMax: true, maxDatabaseBytes: true };
export const SQLITE_OPTION_KEYS: readonly (keyof SqliteStoreOptions)[] = Object.keys(SQLITE_OPTIONS) as (keyof SqliteStoreOptions)[];

/** Opens (creating and migrating if needed) a SQLite store. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}

/** The embedded store: one SQLite file, in WAL mode, written through group commit. */
export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities;
  /** This open's first token above its lease epoch: what a claim would give a new job (claim-statements.ts). */
  readonly insertLeaseToken: number;
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #group: GroupCommit;
  /** Job counts per queue and state, noted by every write below and written with its group. */
  readonly #counts: CountLedger;
  /** What the writes of admin.ts need: the statements and the counts. */
  readonly #w: admin.Writes;
  /** What the lease operations of leases.ts need: the database besides. */
  readonly #l: leases.LeaseWrites;
  /** What the claims of claims.ts need: the writes and the rate limit buckets. */
  readonly #c: claims.ClaimWrites;
  readonly #s: ReturnType<typeof prepareStatements>;
  readonly #tokens: SqliteTokens;
  readonly #snapshots: SqliteSnapshots;
  readonly #alerts: SqliteAlerts;
  readonly #schedules: SqliteSchedules;
  readonly #rateLimits: SqliteRateLimits;
  readonly #workers: SqliteWorkers;
  readonly #bounds: SqliteBounds;
  readonly #routing: SqliteRouting;
  readonly #flows: SqliteFlows;
  /** Syncs the WAL off the event loop for the group commit (durability fsync on a file). */
  readonly #wal: WalSync | null;
  #closing: Promise<void> | null = null;

  constructor(options: SqliteStoreOptions) {
    checkOptionKeys(options, SQLITE_OPTION_KEYS, 'openSqliteStore');
    if (options === undefined) throw new InvalidArgumentError('options', 'openSqliteStore needs options with a path, e.g. { path: \'./spool-data/spool.db\' }');
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new InvalidArgumentError('path', `path must be a database file or ':memory:' (got ${describe(options.path)})`);
    }
    if (options.durability !== undefined && options.durability !== 'fsync' && options.durability !== 'no-fsync') {
      throw new InvalidArgumentError('durability', `durability must be 'fsync' or 'no-fsync' (got ${describe(options.durability)})`);
    }
    if (options.maxDatabaseBytes !== undefined && (!Number.isSafeInteger(options.maxDatabaseBytes) || options.maxDatabaseBytes < 64 * 1024)) {
      throw new InvalidArgumentError('maxDatabaseBytes', `maxDatabaseBytes must be an integer of at least 65536 (got ${describe(options.maxDatabaseBytes)})`);
    }
    const memory = options.path === ':memory:';
    this.location = memory ? ':memory:' : resolve(options.path);
    const durability = options.durability ?? 'fsync';
    const busyTimeoutMs = checkLimit('busyTimeoutMs', options.busyTimeoutMs);
    const historyMax = checkLimit('historyMax', options.historyMax);
    this.capabilities = {
      crossProcessNotify: false,
      durability: memory ? 'memory only (lost when the process exits)' : durability === 'fsync' ? 'fsync on commit' : 'no fsync (survives process crash, not power loss)',
    };
    const { db, tokenBase } = openDatabase(this.location, { memory, durability, busyTimeoutMs, maxDatabaseBytes: options.maxDatabaseBytes });
    this.#db = db;
    this.#counts = new CountLedger(this.#db);
    this.#wal = durability === 'fsync' && !memory ? new WalSync(`${this.location}-wal`) : null;
    this.#group = new GroupCommit(this.#db, this.#counts, this.#wal);
    this.#s = prepareStatements(this.#db, historyMax, tokenBase);
    this.insertLeaseToken = firstToken(tokenBase);
    this.#w = { s: this.#s, counts: this.#counts };
    this.#l = { db: this.#db, s: this.#s, counts: this.#counts };
    this.#tokens = new SqliteTokens(this.#db, this.#group);
    this.#snapshots = new SqliteSnapshots(this.#db, this.#group);
    this.#alerts = new SqliteAlerts(this.#db, this.#group);
    this.#schedules = new SqliteSchedules(this.#db, this.#group, (rows) => void this.#insertAll(rows));
    this.#rateLimits = new SqliteRateLimits(this.#db);
    this.#c = { ...this.#w, rateLimits: this.#rateLimits };
    this.#workers = new SqliteWorkers(this.#db, this.#group, this.#counts, historyMax);
    this.#bounds = new SqliteBounds(this.#db, this.#counts);
    this.#routing = new SqliteRouting(this.#db, this.#group, this.#counts, (rows, report) => void this.#insertAll(rows, report));
    this.#flows = new SqliteFlows(this.#db, this.#group, this.#counts, (rows) => void this.#insertAll(rows), this.#s.get);
  }

  /** Groups committed so far; lets tests see group commit at work. */
  get commits(): number {
    return this.#group.commits;
  }

  /** fdatasync calls on the WAL so far (durability fsync on a file; 0 otherwise); lets tests see which writes sync. */
  get walSyncs(): number {
    return this.#wal?.syncs ?? 0;
  }

  jobsInsertMany(rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting> {
    return this.#group.submit(() => this.#insertAll(rows, report));
  }

  /** The body of jobsInsertMany, inside a running group: throws to refuse every row. */
  #insertAll(rows: readonly NewJobRow[], report?: InsertReport): InsertExisting | undefined {
    {
      let existing: (string | Duplicate | null)[] | undefined;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const named = storeRow(this.#w, this.#db, r);
        if (named !== null) (existing ??= new Array<string | Duplicate | null>(rows.length).fill(null))[i] = named;
      }
      this.#createQueues(rows, null);
      // Bounded queues are checked once the whole batch is in: a refusal throws, and the group
      // commit rolls the call back as one (all or nothing).
      let last = '';
      for (const r of rows) {
        if (!r.bound || r.queue === last) continue;
        last = r.queue;
        const dropped = this.#bounds.settle(r.queue, r.bound, r.createdAt);
        if (dropped > 0 && report) report.dropped[r.queue] = (report.dropped[r.queue] ?? 0) + dropped;
      }
      return existing;
    }
  }

  // Topic routing (routing.ts).
  routingRead(): Promise<RoutingRow> { return this.#routing.read(); }
  bindingPut(p: { pattern: string; queue: string; now: number; max: number }): Promise<boolean> { return this.#routing.put(p); }
  bindingDelete(p: { pattern: string; queue: string }): Promise<boolean> { return this.#routing.delete(p); }
  unroutedQueueSet(queue: string | null): Promise<void> { return this.#routing.setUnroutedQueue(queue); }
  topicPublishEach(items: readonly PublishItem[]): Promise<PublishOutcome[]> { return this.#routing.publishEach(items); }

  // Flows (flows.ts).
  flowInsert(flow: NewFlow): Promise<void> { return this.#flows.insert(flow); }
  flowsSettle(select: FlowSelection, now: number): Promise<{ settled: FlowSettled[]; next: string | null }> { return this.#flows.settle(select, now); }
  flowRead(parentId: string): Promise<StoredFlow | null> { return this.#read(async () => this.#flows.read(parentId)); }
  flowsForget(limit: number): Promise<number> { return this.#flows.forget(limit); }

  idempotencyKeysDelete(p: { before: number; limit: number }): Promise<number> {
    return this.#group.submit(() => Number(this.#s.publishKeysDelete.run(p.before, p.limit).changes));
  }

  jobsInsertEach(rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
    return this.#group.submit(() => {
      const outcomes = leases.each(
        this.#db,
        rows,
        (r): ItemOutcome => {
          if (r.bound) return this.#storeBounded(r, r.bound);
          return outcomeOf(storeRow(this.#w, this.#db, r));
        },
        (r, err): ItemOutcome => ({ ok: false, error: refusedItemError(err, 'payload', `add job ${r.id} to ${r.queue}`) }),
      );
      this.#createQueues(rows, outcomes);
      return outcomes;
    });
  }

  /** Stores one row of a bounded queue, alone: refused (QueueFullError) when it does not fit. */
  #storeBounded(r: NewJobRow, bound: QueueBound): ItemOutcome {
    return this.#bounds.alone((): ItemOutcome => {
      const named = storeRow(this.#w, this.#db, r);
      if (named !== null) return outcomeOf(named);
      try {
        const dropped = this.#bounds.settle(r.queue, bound, r.createdAt);
        return dropped > 0 ? { ok: true, dropped } : STORED;
      } catch (err) {
        this.#counts.move(r.queue, r.state, null); // the savepoint takes the row back; so must the counts
        throw err;
      }
    });
  }

  /** Creates the row of each queue of `rows` (those stored, when `outcomes` is given) that has none, with default settings. */
  #createQueues(rows: readonly NewJobRow[], outcomes: readonly ItemOutcome[] | null): void {
    let last = '';
    let created: Set<string> | null = null;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.queue === last || (outcomes !== null && !outcomes[i]!.ok)) continue;
      last = r.queue;
      if (created?.has(last)) continue;
      (created ??= new Set()).add(last);
      this.#s.queueCreate.run(r.queue, r.createdAt, r.createdAt);
    }
  }

  jobsClaim(p: ClaimParams): Promise<ClaimedJobs> {
    // Needs no sync of its own: the lease epoch keeps an undone claim's token from being issued again (open.ts).
    return this.#group.submit(() => claims.jobsClaim(this.#c, p), false);
  }

  jobsExpire(p: { now: number; limit: number }): Promise<Record<string, number>> {
    return this.#group.submit(() => admin.jobsExpire(this.#w, 'expireAll', p.now, p.limit));
  }

  // Lease operations (see leases.ts), each inside the group commit.
  jobsComplete(items: readonly CompleteItem[], now: number): Promise<LeaseResult[]> { return this.#group.submit(() => leases.jobsComplete(this.#l, items, now)); }
  jobsFail(items: readonly FailItem[], now: number): Promise<FailResult[]> { return this.#group.submit(() => leases.jobsFail(this.#l, items, now)); }
  jobsExtend(items: readonly ExtendItem[], now: number): Promise<ExtendResult[]> { return this.#group.submit(() => leases.jobsExtend(this.#l, items, now)); }
  jobsShorten(items: readonly ShortenItem[], now: number): Promise<boolean[]> { return this.#group.submit(() => leases.jobsShorten(this.#l, items, now)); }
  jobsReport(items: readonly ReportItem[], now: number, keepLogs: number): Promise<LeaseResult[]> {
    return this.#group.submit(() => leases.jobsReport(this.#l, items, now, keepLogs));
  }
  jobsRelease(leaseList: readonly Lease[], now: number): Promise<LeaseResult[]> { return this.#group.submit(() => leases.jobsRelease(this.#l, leaseList, now)); }

  // Operator actions and upkeep (see admin.ts), each inside the group commit.
  jobsCancel(ids: readonly string[], now: number): Promise<CancelResult[]> { return this.#group.submit(() => admin.jobsCancel(this.#w, ids, now)); }
  jobsRetry(ids: readonly string[], now: number): Promise<RetryResult[]> { return this.#group.submit(() => admin.jobsRetry(this.#w, ids, now)); }
  jobsDelete(ids: readonly string[], _now: number): Promise<DeleteResult[]> { return this.#group.submit(() => admin.jobsDelete(this.#w, ids)); }
  jobsReapExpired(p: { now: number; limit: number }): Promise<ReapedJob[]> { return this.#group.submit(() => admin.jobsReapExpired(this.#w, p)); }
  jobsPromoteDue(p: { now: number; limit: number }): Promise<string[]> { return this.#group.submit(() => admin.jobsPromoteDue(this.#w, p)); }
  jobsPurge(p: { queue: string; limit: number }): Promise<number> { return this.#group.submit(() => admin.jobsPurge(this.#w, p)); }
  jobsDeleteFinished(p: { before: Record<'completed' | 'dead' | 'cancelled', number>; limit: number }): Promise<number> {
    return this.#group.submit(() => admin.jobsDeleteFinished(this.#w, p));
  }


  // Reads of jobs (see reads.ts).
  jobsGet(ids: readonly string[]): Promise<(Job | null)[]> {
    return this.#read(() => reads.jobsGet(this.#s, ids));
  }

  jobLogs(id: string): Promise<JobLogLine[] | null> {
    return this.#read(() => reads.jobLogs(this.#s, id));
  }

  jobsList(p: ListParams): Promise<Job[]> {
    return this.#read(() => reads.jobsList(this.#db, this.#s, p));
  }

  jobsSearch(p: SearchParams): Promise<SearchPage> {
    return this.#read(() => reads.jobsSearch(this.#s, p));
  }

  jobsNextDueAt(): Promise<number | null> {
    return this.#read(() => reads.jobsNextDueAt(this.#s));
  }

  // Queues (see queues.ts).
  queueStats(queue: string | null, now: number): Promise<QueueStats[]> {
    return this.#read(() => queues.queueStats(this.#s, queue, now));
  }

  queueUpsert(name: string, config: QueueConfig, now: number): Promise<void> {
    return this.#group.submit(() => {
      ordering.rekeyOnChange(this.#s, name, (this.#s.queueGet.get(name) as { config: string } | undefined)?.config, config);
      this.#s.queueUpsert.run(name, JSON.stringify(config), now, now);
    });
  }

  runEstimateGet(queue: string, name: string): Promise<number | null> {
    return this.#read(() => (this.#s.estimateGet.get(queue, name) as { k: number } | undefined)?.k ?? null);
  }

  queueGet(name: string): Promise<StoredQueue | null> {
    return this.#read(() => queues.queueGet(this.#s, name));
  }

  queueList(): Promise<StoredQueue[]> {
    return this.#read(() => queues.queueList(this.#s));
  }

  queueSetPaused(name: string, paused: boolean, now: number): Promise<void> {
    return this.#group.submit(() => {
      this.#s.queuePause.run(paused ? 1 : 0, now, name);
    });
  }

  queueDelete(p: QueueDeleteParams, _now: number): Promise<QueueDeleteResult> {
    return this.#group.submit((): QueueDeleteResult => queues.queueDelete(this.#s, this.#counts, p));
  }

  // Cron and repeat schedules (see schedules.ts).
  schedulePut(def: ScheduleDefinition, nextAt: (lastSlot: number | null) => number | null, now: number, max: number): Promise<'created' | 'replaced' | 'full'> { return this.#schedules.put(def, nextAt, now, max); }
  scheduleDelete(name: string): Promise<boolean> { return this.#schedules.delete(name); }
  schedules(name?: string): Promise<Schedule[]> { return this.#read(() => this.#schedules.list(name)); }
  scheduleSetPaused(name: string, paused: boolean, nextAt: (lastSlot: number | null) => number | null, now: number): Promise<boolean> { return this.#schedules.setPaused(name, paused, nextAt, now); }
  schedulesDue(now: number, limit: number): Promise<Schedule[]> { return this.#read(() => this.#schedules.due(now, limit)); }
  schedulesNextAt(): Promise<number | null> { return this.#read(() => this.#schedules.nextAt()); }
  scheduleFire(firing: ScheduleFiring): Promise<boolean> { return this.#schedules.fire(firing); }

  // Alert rules and events (see alerts.ts).
  alertRulePut(rule: CheckedAlertRule, now: number, max: number): Promise<'created' | 'replaced' | 'full'> { return this.#alerts.put(rule, now, max); }
  alertRuleDelete(id: string, now: number): Promise<boolean> { return this.#alerts.delete(id, now); }
  alertRules(): Promise<StoredAlertRule[]> { return this.#read(() => this.#alerts.list()); }
  alertsEvaluated(evaluations: readonly AlertEvaluation[], now: number, eventsMax: number): Promise<void> { return this.#alerts.evaluated(evaluations, now, eventsMax); }
  alertEvents(p: { before?: number | undefined; limit: number; ruleId?: string | undefined }): Promise<AlertEvent[]> { return this.#read(() => this.#alerts.events(p)); }
  alertDeliveriesClaim(p: { now: number; leaseMs: number; limit: number }): Promise<AlertDelivery[]> { return this.#alerts.claim(p); }
  alertDeliveryDone(id: number, outcome: AlertDeliveryOutcome): Promise<void> { return this.#alerts.done(id, outcome); }

  // API tokens (see tokens.ts).
  tokensInsert(row: NewTokenRow): Promise<void> { return this.#tokens.insert(row); }
  tokensList(): Promise<TokenInfo[]> { return this.#read(() => this.#tokens.list()); }
  tokensDelete(ids: readonly string[]): Promise<number> { return this.#tokens.delete(ids); }
  tokenGet(id: string): Promise<TokenRow | null> { return this.#read(() => this.#tokens.get(id)); }
  tokensExist(): Promise<boolean> { return this.#read(() => this.#tokens.exist()); }
  tokensEnabled(): Promise<boolean> { return this.#read(() => this.#tokens.enabled()); }
  tokensMarkUsed(uses: readonly TokenUse[]): Promise<void> { return this.#tokens.markUsed(uses); }
  // The registry of processes sharing the file (see workers.ts).
  workerRegister(w: WorkerRegistration, now: number, ttlMs: number): Promise<void> { return this.#workers.register(w, now, ttlMs); }
  workerHeartbeat(id: string, now: number, ttlMs: number): Promise<boolean> { return this.#workers.heartbeat(id, now, ttlMs); }
  workerAnnounce(id: string, consumers: readonly ConsumerAnnouncement[]): Promise<void> { return this.#workers.announce(id, consumers); }
  workerUnregister(id: string): Promise<void> { return this.#workers.unregister(id); }
  workersReapDead(p: { now: number; limit: number; self?: string | null | undefined }): Promise<ReapedJob[]> { return this.#workers.reapDead(p); }
  // Process snapshots for the cluster-wide model (see snapshots.ts).
  processSnapshotPut(p: ProcessSnapshot, mustExist: boolean): Promise<boolean> { return this.#snapshots.put(p, mustExist); }
  processSnapshotsRead(): Promise<ProcessSnapshots> { return this.#read(async () => this.#snapshots.read()); }
  processSnapshotsRetire(p: { before: number }): Promise<number> { return this.#snapshots.retire(p.before); }
  // Rate limit buckets (see rate-limits.ts).
  rateLimitRead(p: RateBucket & { now: number }): Promise<RateTaken> { return this.#read(async () => this.#rateLimits.read(p)); }
  rateLimitsDropFull(p: { now: number; after: string; limit: number }): Promise<{ deleted: number; next: string | null }> {
    return this.#group.submit(() => this.#rateLimits.dropFullKeys(p.now, p.after, p.limit));
  }

  /** Reads run on this thread, outside the group commit: after close they are refused as writes are. */
  #assertOpen(): void {
    if (!this.#db.isOpen) throw new ClosedError('store');
  }

  /**
   * A read: refused after close; and, while a durable write this process committed waits for its
   * sync, it waits for that sync and one turn of the event loop, so that nothing this process
   * reads is a write not yet on disk, and the writer has heard "done" first (wal-sync.ts).
   */
  async #read<T>(read: () => T | Promise<T>): Promise<T> {
    this.#assertOpen();
    const syncing = this.#group.syncing();
    if (syncing) {
      await syncing.catch(() => {});
      await new Promise((resolve) => setImmediate(resolve));
      this.#assertOpen();
    }
    return read();
  }

  /** Commits what is pending, waits for its sync, and closes the file; a second call waits for the first. */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    if (!this.#db.isOpen) return;
    await this.#group.close();
    this.#db.close();
  }
}
