import { ClosedError } from '../../core/errors.ts';
import type { Job, JobLogLine, JobState, Lease, QueueStats } from '../../core/job.ts';
import type { QueueConfig } from '../../core/queue-config.ts';
import type {
  CancelResult, ClaimedJobs, ClaimParams, CompleteItem, DeleteResult, ExtendItem, ExtendResult, FailItem, FailResult, InsertExisting, ItemOutcome, LeaseResult,
  ListParams, NewJobRow, SearchPage, SearchParams, QueueDeleteParams, QueueDeleteResult, ReapedJob, ReportItem, RetryResult, Store, StoreCapabilities, StoredQueue, TokenInfo,
  TokenRow, NewTokenRow, TokenUse, WorkerRegistration, ConsumerAnnouncement, ProcessSnapshot, ProcessSnapshots, InsertReport,
  RateBucket, RateTaken, ShortenItem, PublishItem, PublishOutcome, RoutingRow,
} from '../store.ts';
import { PgPool, type Executor, type Rows, type TxExecutor } from './pg-client.ts';
import { PgListener } from './pg-listener.ts';
import { checkPgOptions, type PostgresStoreOptions } from './pg-options.ts';
import * as admin from './admin.ts';
import type { PgJobsContext } from './admin.ts';
import { applyEach } from './apply-each.ts';
import { pgOpenError, translatePgError } from './pg-errors.ts';
import * as cluster from './cluster.ts';
import * as queues from './queues.ts';
import * as reads from './reads.ts';
import { migrateSchema } from './migrate.ts';
import { pgStatements, type PgStatements } from './statements.ts';
import * as tokens from './tokens.ts';
import * as snapshots from './snapshots.ts';
import * as rateLimits from './rate-limits.ts';
import * as alerts from './alerts.ts';
import * as schedules from './schedules.ts';
import type { ScheduleFiring } from '../schedule-store.ts';
import type { Schedule, ScheduleDefinition } from '../../core/schedule.ts';
import * as claims from './claims.ts';
import * as inserts from './inserts.ts';
import * as routing from './routing.ts';
import * as flows from './flows.ts';
import type { FlowSelection, FlowSettled, NewFlow, StoredFlow } from '../flow-store.ts';
import type { PgInsertContext } from './inserts.ts';
import * as leases from './leases.ts';
import type { PgLeaseContext } from './leases.ts';
import type { AlertDelivery, AlertDeliveryOutcome, AlertEvaluation, StoredAlertRule } from '../alert-store.ts';
import type { AlertEvent, CheckedAlertRule } from '../../alerts/rules.ts';
import { FIRST_LEASE_TOKEN } from './insert-statements.ts';

export { PG_OPTION_KEYS, type PostgresStoreOptions } from './pg-options.ts';

const NOTIFY_CHANNEL = 'spool_ready';

/**
 * Opens a PostgreSQL store, migrating its schema under an advisory lock.
 * @throws StoreUnavailableError of one line (see pgOpenError) when the server cannot be reached, refuses the login, or has no such database.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  try {
    await store.init(options.migrate !== false);
  } catch (err) {
    await store.close();
    throw pgOpenError(err, { url: options.url, schema: store.schema });
  }
  return store;
}

/**
 * The distributed store: any number of Spool processes share one PostgreSQL.
 * Claims use `FOR UPDATE SKIP LOCKED`, so concurrent claimers never block on or
 * double-deliver each other's rows; every lease-bearing change checks state and
 * token in the same statement; finished jobs leave the hot `jobs` table.
 */
/** Connections of the operator reads' pool (see PostgresStore.#reads), per process. */
const READ_POOL_SIZE = 2;

export class PostgresStore implements Store {
  readonly capabilities: StoreCapabilities;
  readonly insertLeaseToken = FIRST_LEASE_TOKEN;
  readonly location: string;
  readonly schema: string;
  readonly #pool: PgPool;
  /**
   * Operator reads (stats, listings, searches, log lines, alert events): connections of their
   * own with a statement timeout, so a dashboard never holds the ones claims and acks need.
   */
  readonly #reads: PgPool;
  readonly #q: PgStatements;
  /** The pool, or for a view bound to a transaction (see asLeader), that transaction. */
  #db: Executor;
  #tx: TxExecutor | null = null;
  readonly #notify: boolean;
  #listeners = new Set<(queue: string) => void>();
  #listener: PgListener | null = null;
  #closed = false;
  /** The schema version found at open, before migrating (0 for a new schema). */
  migratedFrom = 0;

  readonly #options: PostgresStoreOptions;

  constructor(options: PostgresStoreOptions, bind?: { parent: PostgresStore; tx: TxExecutor }) {
    this.#options = options;
    if (bind) {
      // A transaction-bound view: shares everything with its parent, sends queries through the transaction.
      const p = bind.parent;
      this.schema = p.schema;
      this.location = p.location;
      this.capabilities = p.capabilities;
      this.#pool = p.#pool;
      this.#reads = p.#reads;
      this.#q = p.#q;
      this.#notify = p.#notify;
      this.#db = bind.tx;
      this.#tx = bind.tx;
      return;
    }
    const { schema, poolSize, historyMax, readTimeoutMs, location } = checkPgOptions(options);
    this.schema = schema;
    this.#notify = options.notify !== false;
    this.location = location;
    this.capabilities = {
      crossProcessNotify: this.#notify,
      durability: 'PostgreSQL commit (synchronous_commit as configured on the server)',
    };
    this.#pool = new PgPool(options.url, poolSize, { genericPlans: true });
    this.#reads = new PgPool(options.url, READ_POOL_SIZE, { statementTimeoutMs: readTimeoutMs }); // connections open on first use
    this.#q = pgStatements(schema, historyMax);
    this.#db = this.#pool;
  }

  /** Runs `fn` in a transaction: a new one on the pool, or a savepoint inside the bound one. */
  #transaction<T>(fn: (tx: TxExecutor) => Promise<T>): Promise<T> {
    if (this.#tx) return this.#tx.savepoint(fn);
    return this.#pool.transaction(fn);
  }

  /** A view of this store whose queries run inside `tx` (its nested transactions become savepoints). */
  #bound(tx: TxExecutor): PostgresStore {
    return new PostgresStore(this.#options, { parent: this, tx });
  }

  /** Migrates (or checks) the schema, and starts listening for notifications. */
  async init(migrate: boolean): Promise<void> {
    this.migratedFrom = await this.#run(() => migrateSchema(this.#pool, this.schema, migrate), 'migrate the schema');
    if (this.#notify) {
      const channel = `${NOTIFY_CHANNEL}_${this.schema}`;
      const listener = new PgListener(this.#options.url, channel, (queue) => {
        for (const fn of this.#listeners) fn(queue);
      });
      await this.#run(() => listener.start(), 'listen for notifications');
      this.#listener = listener;
    }
  }

  /** The schema version recorded in the database. */
  async schemaVersion(): Promise<number> {
    const rows = await this.#run(() => this.#db.q(`SELECT max(version) AS v FROM ${this.schema}.schema_version`), 'read the schema version');
    return (rows[0]?.v as number | null) ?? 0;
  }

  /**
   * Runs raw SQL through this store's connection (or, for a view inside a leader duty, its
   * transaction). For operations and tests; the schema is `this.schema`.
   */
  async query(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return [...(await this.#run(() => this.#db.q(text, params), 'run a query'))];
  }

  /** Subscribes to "jobs became ready in <queue>" from every process on this schema. */
  onReady(fn: (queue: string) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Notifies every process on this schema that jobs of `queue` are ready (nothing when notifications are off). */
  async announceReady(queue: string): Promise<void> {
    const channel = this.#notifyChannel();
    if (channel) await this.#run(() => this.#db.q('SELECT pg_notify($1, $2)', [channel, queue]), `wake the consumers of ${queue}`);
  }

  // Topic routing (see routing.ts).
  routingRead(): Promise<RoutingRow> { return routing.routingRead(this.#insertCtx()); }
  bindingPut(p: { pattern: string; queue: string; now: number; max: number }): Promise<boolean> { return routing.bindingPut(this.#insertCtx(), p); }
  bindingDelete(p: { pattern: string; queue: string }): Promise<boolean> { return routing.bindingDelete(this.#insertCtx(), p); }
  unroutedQueueSet(queue: string | null): Promise<void> { return routing.unroutedQueueSet(this.#insertCtx(), queue); }
  topicPublishEach(items: readonly PublishItem[]): Promise<PublishOutcome[]> { return routing.topicPublishEach(this.#insertCtx(), items); }

  // Flows (see flows.ts).
  flowInsert(flow: NewFlow): Promise<void> { return flows.flowInsert(this.#insertCtx(), flow); }
  flowsSettle(select: FlowSelection, now: number): Promise<{ settled: FlowSettled[]; next: string | null }> { return flows.flowsSettle(this.#insertCtx(), select, now); }
  flowRead(parentId: string): Promise<StoredFlow | null> { return flows.flowRead(this.#insertCtx(), parentId); }
  flowsForget(limit: number): Promise<number> { return flows.flowsForget(this.#insertCtx(), limit); }

  // Inserts (see inserts.ts).
  jobsInsertMany(rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting> { return inserts.jobsInsertMany(this.#insertCtx(), rows, report); }
  jobsInsertEach(rows: readonly NewJobRow[]): Promise<ItemOutcome[]> { return inserts.jobsInsertEach(this.#insertCtx(), rows); }

  idempotencyKeysDelete(p: { before: number; limit: number }): Promise<number> { return this.#run(async () => (await this.#db.q(this.#q.publishKeysDelete, [p.before, p.limit])).count, 'delete expired idempotency keys'); }

  /** Runs the insert inside a caller's transaction: the jobs exist if and only if it commits (see inserts.ts). */
  jobsInsertManyInTransaction(tx: unknown, rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting> {
    return inserts.jobsInsertManyInTransaction(this.#insertCtx(), tx, rows, report);
  }

  // Claims (see claims.ts).
  jobsClaim(p: ClaimParams): Promise<ClaimedJobs> { return claims.jobsClaim(this.#ctx(), p); }

  // Held leases, and run time estimates (see leases.ts).
  jobsComplete(items: readonly CompleteItem[], now: number): Promise<LeaseResult[]> { return leases.jobsComplete(this.#leaseCtx(), items, now); }
  runEstimateGet(queue: string, name: string): Promise<number | null> { return leases.runEstimateGet(this.#leaseCtx(), queue, name); }
  jobsFail(items: readonly FailItem[], now: number): Promise<FailResult[]> { return leases.jobsFail(this.#leaseCtx(), items, now); }
  jobsExtend(items: readonly ExtendItem[], now: number): Promise<ExtendResult[]> { return leases.jobsExtend(this.#leaseCtx(), items, now); }
  jobsShorten(items: readonly ShortenItem[], now: number): Promise<boolean[]> { return leases.jobsShorten(this.#leaseCtx(), items, now); }
  jobsReport(items: readonly ReportItem[], now: number, keepLogs: number): Promise<LeaseResult[]> { return leases.jobsReport(this.#leaseCtx(), items, now, keepLogs); }
  jobsRelease(leaseList: readonly Lease[], now: number): Promise<LeaseResult[]> { return leases.jobsRelease(this.#leaseCtx(), leaseList, now); }

  // Operator actions by id, and upkeep (see admin.ts).
  jobsCancel(ids: readonly string[], now: number): Promise<CancelResult[]> { return admin.jobsCancel(this.#ctx(), ids, now); }
  jobsRetry(ids: readonly string[], now: number): Promise<RetryResult[]> { return admin.jobsRetry(this.#ctx(), ids, now); }
  jobsDelete(ids: readonly string[], _now: number): Promise<DeleteResult[]> { return admin.jobsDelete(this.#ctx(), ids); }
  jobsReapExpired(p: { now: number; limit: number }): Promise<ReapedJob[]> { return admin.jobsReapExpired(this.#ctx(), p); }
  jobsPromoteDue(p: { now: number; limit: number }): Promise<string[]> { return admin.jobsPromoteDue(this.#ctx(), p); }
  jobsExpire(p: { now: number; limit: number }): Promise<Record<string, number>> { return admin.jobsExpire(this.#ctx(), p); }
  jobsPurge(p: { queue: string; limit: number }): Promise<number> { return admin.jobsPurge(this.#ctx(), p); }
  jobsDeleteFinished(p: { before: Record<'completed' | 'dead' | 'cancelled', number>; limit: number }): Promise<number> { return admin.jobsDeleteFinished(this.#ctx(), p); }

  // Reads of jobs (see reads.ts).
  jobsGet(ids: readonly string[]): Promise<(Job | null)[]> { return reads.jobsGet(this.#ctx(), ids); }
  jobLogs(id: string): Promise<JobLogLine[] | null> { return reads.jobLogs(this.#readCtx(), id); }
  jobsList(p: ListParams): Promise<Job[]> { return reads.jobsList(this.#readCtx(), p); }
  jobsSearch(p: SearchParams): Promise<SearchPage> { return reads.jobsSearch(this.#readCtx(), p); }
  jobsNextDueAt(): Promise<number | null> { return reads.jobsNextDueAt(this.#ctx()); }

  // Queues (see queues.ts).
  queueStats(queue: string | null, now: number): Promise<QueueStats[]> { return queues.queueStats(this.#readCtx(), queue, now); }
  queueUpsert(name: string, config: QueueConfig, now: number): Promise<void> { return queues.queueUpsert(this.#ctx(), name, config, now); }
  queueGet(name: string): Promise<StoredQueue | null> { return queues.queueGet(this.#ctx(), name); }
  queueList(): Promise<StoredQueue[]> { return queues.queueList(this.#ctx()); }
  queueSetPaused(name: string, paused: boolean, now: number): Promise<void> { return queues.queueSetPaused(this.#ctx(), name, paused, now); }
  queueDelete(p: QueueDeleteParams, _now: number): Promise<QueueDeleteResult> { return queues.queueDelete(this.#ctx(), p); }

  // Many processes on one database: registry, leadership, upkeep (see cluster.ts).
  workerRegister(w: WorkerRegistration, now: number, ttlMs: number): Promise<void> { return cluster.workerRegister(this.#ctx(), w, now, ttlMs); }
  workerHeartbeat(id: string, now: number, ttlMs: number): Promise<boolean> { return cluster.workerHeartbeat(this.#ctx(), id, now, ttlMs); }
  workerAnnounce(id: string, consumers: readonly ConsumerAnnouncement[]): Promise<void> { return cluster.workerAnnounce(this.#ctx(), id, consumers); }
  workerUnregister(id: string): Promise<void> { return cluster.workerUnregister(this.#ctx(), id); }
  storeTime(): Promise<number> { return cluster.storeTime(this.#ctx()); }
  workersReapDead(p: { now: number; limit: number; self?: string | null | undefined }): Promise<ReapedJob[]> { return cluster.workersReapDead(this.#ctx(), p); }
  asLeader<T>(name: string, holder: string, leaseMs: number, duty: (store: Store) => Promise<T>): Promise<{ led: true; value: T } | { led: false }> {
    return cluster.asLeader(this.#ctx(), name, holder, leaseMs, duty);
  }
  leaderResign(name: string, holder: string): Promise<void> { return cluster.leaderResign(this.#ctx(), name, holder); }
  tablesVacuum(): Promise<boolean> { return cluster.tablesVacuum(this.#ctx()); }
  countsRollup(): Promise<void> { return queues.countsRollup(this.#ctx()); }

  // Cron and repeat schedules (see schedules.ts).
  schedulePut(def: ScheduleDefinition, nextAt: (lastSlot: number | null) => number | null, now: number, max: number): Promise<'created' | 'replaced' | 'full'> { return schedules.schedulePut(this.#ctx(), def, nextAt, now, max); }
  scheduleDelete(name: string): Promise<boolean> { return schedules.scheduleDelete(this.#ctx(), name); }
  schedules(name?: string): Promise<Schedule[]> { return schedules.schedules(this.#readCtx(), name); }
  scheduleSetPaused(name: string, paused: boolean, nextAt: (lastSlot: number | null) => number | null, now: number): Promise<boolean> { return schedules.scheduleSetPaused(this.#ctx(), name, paused, nextAt, now); }
  schedulesDue(now: number, limit: number): Promise<Schedule[]> { return schedules.schedulesDue(this.#ctx(), now, limit); }
  schedulesNextAt(): Promise<number | null> { return schedules.schedulesNextAt(this.#ctx()); }
  scheduleFire(firing: ScheduleFiring): Promise<boolean> { return schedules.scheduleFire(this.#insertCtx(), firing); }

  // Alert rules and events (see alerts.ts).
  alertRulePut(rule: CheckedAlertRule, now: number, max: number): Promise<'created' | 'replaced' | 'full'> { return alerts.alertRulePut(this.#ctx(), rule, now, max); }
  alertRuleDelete(id: string, now: number): Promise<boolean> { return alerts.alertRuleDelete(this.#ctx(), id, now); }
  alertRules(): Promise<StoredAlertRule[]> { return alerts.alertRules(this.#ctx()); }
  alertsEvaluated(evaluations: readonly AlertEvaluation[], now: number, eventsMax: number): Promise<void> { return alerts.alertsEvaluated(this.#ctx(), evaluations, now, eventsMax); }
  alertEvents(p: { before?: number | undefined; limit: number; ruleId?: string | undefined }): Promise<AlertEvent[]> { return alerts.alertEvents(this.#readCtx(), p); }
  alertDeliveriesClaim(p: { now: number; leaseMs: number; limit: number }): Promise<AlertDelivery[]> { return alerts.alertDeliveriesClaim(this.#ctx(), p); }
  alertDeliveryDone(id: number, outcome: AlertDeliveryOutcome): Promise<void> { return alerts.alertDeliveryDone(this.#ctx(), id, outcome); }

  // API tokens (see tokens.ts).
  tokensInsert(row: NewTokenRow): Promise<void> { return tokens.tokensInsert(this.#ctx(), row); }
  tokensList(): Promise<TokenInfo[]> { return tokens.tokensList(this.#ctx()); }
  tokensDelete(ids: readonly string[]): Promise<number> { return tokens.tokensDelete(this.#ctx(), ids); }
  tokenGet(id: string): Promise<TokenRow | null> { return tokens.tokenGet(this.#ctx(), id); }
  tokensExist(): Promise<boolean> { return tokens.tokensExist(this.#ctx()); }
  tokensEnabled(): Promise<boolean> { return tokens.tokensEnabled(this.#ctx()); }
  tokensMarkUsed(uses: readonly TokenUse[]): Promise<void> { return tokens.tokensMarkUsed(this.#ctx(), uses); }
  // Process snapshots for the cluster-wide model (see snapshots.ts).
  processSnapshotPut(p: ProcessSnapshot, mustExist: boolean): Promise<boolean> { return snapshots.processSnapshotPut(this.#ctx(), p, mustExist); }
  processSnapshotsRead(): Promise<ProcessSnapshots> { return snapshots.processSnapshotsRead(this.#ctx()); }
  processSnapshotsRetire(p: { before: number }): Promise<number> { return snapshots.processSnapshotsRetire(this.#ctx(), p.before); }
  // Rate limit buckets (see rate-limits.ts).
  rateLimitRead(p: RateBucket & { now: number }): Promise<RateTaken> { return rateLimits.rateLimitRead(this.#ctx(), p); }
  rateLimitsDropFull(p: { now: number; after: string; limit: number }): Promise<{ deleted: number; next: string | null }> { return rateLimits.rateLimitsDropFull(this.#ctx(), p); }

  /** The context of an operator read: on the read pool, or, in a view bound to a transaction, in it. */
  #readCtx(): PgJobsContext {
    return { ...this.#ctx(), db: this.#tx ?? this.#reads };
  }

  /** The context of the lease operations (leases.ts): {@link #ctx} and this store's applyEach. */
  #leaseCtx(): PgLeaseContext {
    return { ...this.#ctx(), applyEach: (items, run, doing, field, doingItem) => this.#applyEach(items, run, doing, field, doingItem) };
  }

  /** The context of the insert paths (inserts.ts): {@link #leaseCtx}, with a run that names the field a refusal blames. */
  #insertCtx(): PgInsertContext {
    return { ...this.#leaseCtx(), run: (fn, doing, field) => this.#run(fn, doing, field) };
  }

  #ctx(): PgJobsContext {
    return {
      db: this.#db, q: this.#q, schema: this.schema,
      run: (fn, doing) => this.#run(fn, doing),
      transaction: (fn) => this.#transaction(fn),
      reap: (tx, ids, now) => this.#reap(tx, ids, now),
      bound: (tx) => this.#bound(tx),
      lookup: (ids) => this.#lookup(ids),
      notifyChannel: this.#notifyChannel(),
    };
  }

  async close(): Promise<void> {
    if (this.#tx) return; // a transaction-bound view owns no connections
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener?.close();
    await this.#pool.end().catch(() => {});
    await this.#reads.end().catch(() => {});
  }

  #notifyChannel(): string | null {
    return this.#notify ? `${NOTIFY_CHANNEL}_${this.schema}` : null;
  }

  async #run<T>(fn: () => Promise<T>, doing: string, field?: string | ((sqlstate: string) => string)): Promise<T> {
    if (this.#closed) throw new ClosedError('store');
    try {
      return await fn();
    } catch (err) {
      throw translatePgError(err, doing, field);
    }
  }

  /** {@link applyEach} on this store: refused if closed, each part isolated (a savepoint inside a bound transaction). */
  #applyEach<I>(
    items: readonly I[],
    run: (batch: readonly I[]) => Promise<Rows | Record<string, unknown>[]>,
    doing: string,
    field: string | ((sqlstate: string, item?: I) => string),
    doingItem: (item: I) => string,
  ): Promise<{ rows: Record<string, unknown>[]; refused: Map<number, Error> | null }> {
    if (this.#closed) return Promise.reject(new ClosedError('store'));
    return applyEach(items, (batch) => this.#isolated(() => run(batch)), doing, field, doingItem);
  }

  /** Runs `fn` so that its failure leaves the rest intact: as is on the pool, in a savepoint inside a bound transaction. */
  #isolated<T>(fn: () => Promise<T>): Promise<T> {
    return this.#tx ? this.#tx.savepoint(() => fn()) : fn();
  }

  /** Current state and token of jobs, wherever they are. */
  async #lookup(ids: readonly string[]): Promise<Map<string, { state: JobState; token: number; queue: string }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.#run(() => this.#db.q(this.#q.lookup, [ids as string[]]), 'read job states');
    return new Map((rows as unknown as { id: string; state: JobState; token: number; queue: string }[]).map((r) => [r.id, r]));
  }

  /** Ends the leases of `ids` (locked by the caller) as expired attempts: dead when used up, else ready. */
  #reap(tx: TxExecutor, ids: string[], now: number): Promise<ReapedJob[]> {
    return admin.reapLocked(this.#q, tx, ids, now, this.#notifyChannel());
  }
}
