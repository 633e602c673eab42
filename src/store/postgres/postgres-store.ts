import { ClosedError } from '../../core/errors.ts';
import { compareClaimOrder, leaseKey, type DeadReason, type Job, type JobLogLine, type JobState, type Lease, type QueueStats } from '../../core/job.ts';
import type { ConcurrencyRule, QueueConfig } from '../../core/queue-config.ts';
import type {
  CancelResult, ClaimParams, CompleteItem, DeleteResult, Duplicate, ExtendItem, ExtendResult, FailItem, FailResult, InsertExisting, ItemOutcome, LeaseMiss, LeaseResult,
  ListParams, NewJobRow, SearchPage, SearchParams, QueueDeleteParams, QueueDeleteResult, ReapedJob, ReportItem, RetryResult, Store, StoreCapabilities, StoredQueue, TokenInfo,
  TokenRow, NewTokenRow, TokenUse, WorkerRegistration, ProcessSnapshot, ProcessSnapshots, InsertReport,
  RateBucket, RateTaken, ShortenItem,
} from '../store.ts';
import { checkKeepLogs, reportDoing, reportField } from '../job-report.ts';
import { inClaimOrder } from '../concurrency-claim.ts';
import { callerTransaction, PgListener, PgPool, type Executor, type Rows, type TxExecutor } from './pg-client.ts';
import { checkPgOptions, type PostgresStoreOptions } from './pg-options.ts';
import * as admin from './admin.ts';
import type { PgJobsContext } from './admin.ts';
import { applyEach } from './apply-each.ts';
import { pgOpenError, translatePgError } from './pg-errors.ts';
import * as cluster from './cluster.ts';
import * as queues from './queues.ts';
import * as reads from './reads.ts';
import { migrateSchema } from './migrate.ts';
import { mergeReports, reportedLeases, reportParams } from './report.ts';
import { insertField, insertStatement, leaseResults, leasesOf, pgRowToJob, STORED, type PgJobRow } from './rows.ts';
import { pgStatements, type PgStatements } from './statements.ts';
import * as tokens from './tokens.ts';
import * as snapshots from './snapshots.ts';
import * as rateLimits from './rate-limits.ts';
import * as alerts from './alerts.ts';
import { insertKeyed, resultRows } from './publish-keys.ts';
import { boundedQueues, PgBounds, type Run as BoundRun } from './bounds.ts';
import type { AlertDelivery, AlertDeliveryOutcome, AlertEvaluation, StoredAlertRule } from '../alert-store.ts';
import type { AlertEvent, CheckedAlertRule } from '../../alerts/rules.ts';

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
    this.#pool = new PgPool(options.url, poolSize);
    this.#reads = new PgPool(options.url, READ_POOL_SIZE, readTimeoutMs); // connections open on first use
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

  /** Bounded queues' inserts (bounds.ts). */
  get #bounds(): PgBounds {
    return new PgBounds(this.#q, this.schema);
  }

  /** Inserts `rows` through `run`, in a transaction (plain, or keyed when a row has an idempotency or unique key). */
  async #insertWith(run: BoundRun, rows: readonly NewJobRow[], channel: string | null): Promise<void | InsertExisting> {
    if (!hasKeys(rows)) {
      await run(...insertStatement(this.#q, rows, channel));
      return;
    }
    return insertKeyed(this.#q, run, rows, channel, true);
  }

  async jobsInsertMany(rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting> {
    if (rows.length === 0) return;
    const channel = this.#notifyChannel();
    if (rows.some((r) => r.bound)) {
      // One transaction: the queues' locks, the insert and the counts after it; a refusal rolls it all back.
      return this.#run(() => this.#transaction((tx) => {
        const run: BoundRun = (text, params) => tx.q(text, params);
        return this.#bounds.insertMany(run, rows, (batch) => this.#insertWith(run, batch, channel), report);
      }), 'add jobs', insertField);
    }
    if (!hasKeys(rows)) {
      await this.#run(() => this.#db.q(...insertStatement(this.#q, rows, channel)), 'add jobs', insertField);
      return;
    }
    return this.#run(() => insertKeyed(this.#q, (text, params) => this.#db.q(text, params), rows, channel), 'add jobs', insertField);
  }

  async jobsInsertEach(rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
    if (rows.length === 0) return [];
    if (rows.some((r) => r.bound)) return this.#insertEachBounded(rows);
    return this.#insertEachPlain(rows);
  }

  /**
   * jobsInsertEach with rows of bounded queues: the other rows as usual, then each bounded queue's
   * rows in a transaction of their own under its lock (bounds.ts). A bounded queue's transaction
   * that fails as a whole fails its rows alone.
   */
  async #insertEachBounded(rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
    const outcomes = new Array<ItemOutcome>(rows.length);
    const plain = rows.flatMap((r, i) => (r.bound ? [] : [i]));
    if (plain.length > 0) (await this.#insertEachPlain(plain.map((i) => rows[i]!))).forEach((o, j) => (outcomes[plain[j]!] = o));
    const channel = this.#notifyChannel();
    for (const [queue, bound] of boundedQueues(rows)) {
      const mine = rows.flatMap((r, i) => (r.bound && r.queue === queue ? [i] : []));
      const batch = mine.map((i) => rows[i]!);
      let results: ItemOutcome[];
      try {
        results = await this.#run(() => this.#transaction((tx) => {
          const run: BoundRun = (text, params) => tx.q(text, params);
          return this.#bounds.insertEach(run, queue, bound, batch, (one) => this.#insertWith(run, one, channel), (fn) => tx.savepoint(() => fn()),
            (r, err) => translatePgError(err, `add job ${r.id} to ${r.queue}`, insertField) as Error);
        }), 'add jobs', insertField);
      } catch (err) {
        results = batch.map(() => ({ ok: false, error: err as Error }));
      }
      results.forEach((o, j) => (outcomes[mine[j]!] = o));
    }
    return outcomes;
  }

  async #insertEachPlain(rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
    const channel = this.#notifyChannel();
    /** Rows not stored because a key named another job: that job's id, or the holder of its unique key (from the attempt that committed). */
    const named = new Map<NewJobRow, string | Duplicate>();
    const insert = (batch: readonly NewJobRow[]) => {
      if (!hasKeys(batch)) return this.#db.q(...insertStatement(this.#q, batch, channel));
      return (async () => {
        for (const r of batch) named.delete(r);
        const existing = await insertKeyed(this.#q, (text, params) => this.#db.q(text, params), batch, channel);
        batch.forEach((r, i) => existing[i] && named.set(r, existing[i]));
        return [];
      })();
    };
    const { refused } = await this.#applyEach(rows, insert, 'add jobs', insertField, (r) => `add job ${r.id} to ${r.queue}`);
    return rows.map((r, i): ItemOutcome => {
      const error = refused?.get(i);
      if (error) return { ok: false, error };
      const existing = named.get(r);
      if (existing === undefined) return STORED;
      return typeof existing === 'string' ? { ok: true, existing } : { ok: true, duplicateOf: existing.duplicateOf };
    });
  }

  idempotencyKeysDelete(p: { before: number; limit: number }): Promise<number> { return this.#run(async () => (await this.#db.q(this.#q.publishKeysDelete, [p.before, p.limit])).count, 'delete expired idempotency keys'); }

  /**
   * Runs the insert inside a caller's transaction: the jobs exist if and only if it commits.
   * Takes a postgres.js transaction (`sql.begin(async (tx) => …)`) or a `pg` client inside BEGIN.
   * The NOTIFY that wakes consumers is part of the same transaction, so it fires on commit only.
   */
  async jobsInsertManyInTransaction(tx: unknown, rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting> {
    if (rows.length === 0) return;
    const run = callerTransaction(tx);
    const channel = this.#notifyChannel();
    if (rows.some((r) => r.bound)) {
      // The queues' locks are held until the caller's transaction ends. The bound is checked before
      // the insert: the caller might commit after a refusal, which must leave nothing over the bound.
      const inTx: BoundRun = async (text, params) => resultRows(await run(text, params));
      return this.#run(() => this.#bounds.insertMany(inTx, rows, (batch) => this.#insertWith(inTx, batch, channel), report, true), 'add jobs in your transaction', insertField);
    }
    if (!hasKeys(rows)) {
      await this.#run(() => run(...insertStatement(this.#q, rows, channel)), 'add jobs in your transaction', insertField);
      return;
    }
    // The keys are recorded in the caller's transaction too: a rollback leaves none behind.
    return this.#run(() => insertKeyed(this.#q, async (text, params) => resultRows(await run(text, params)), rows, channel, true), 'add jobs in your transaction', insertField);
  }

  async jobsClaim(p: ClaimParams): Promise<Job[]> {
    if (p.concurrency) return this.#claimLimited(p, p.concurrency);
    if (p.byKey) return this.#claimByKey(p);
    const rows = await this.#run(
      () => this.#db.q(this.#q.claim, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null]),
      `claim from ${p.queue}`,
    );
    return (rows as unknown as PgJobRow[]).map(pgRowToJob).sort(compareClaimOrder);
  }

  /**
   * A queue that is not fifo: jobs by sort key, then, when those run out, any without a key (added
   * by a process that had not yet seen the policy) by the fifo claim.
   */
  async #claimByKey(p: ClaimParams): Promise<Job[]> {
    const rows = (await this.#run(
      () => this.#db.q(this.#q.claimByKey, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null]),
      `claim from ${p.queue}`,
    )) as unknown as (PgJobRow & { sort_key: number })[];
    rows.sort((a, b) => a.sort_key - b.sort_key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const jobs = rows.map(({ sort_key: _, ...row }) => pgRowToJob(row));
    if (jobs.length < p.limit) jobs.push(...(await this.jobsClaim({ ...p, limit: p.limit - jobs.length, byKey: false })));
    return jobs;
  }

  /**
   * A queue with per-key limits or group FIFO: its claims take turns on the queue's advisory lock,
   * so each one's statement counts the active jobs every earlier claim leased (they committed
   * before the lock was free), and no two claims together pass a key's limit.
   */
  async #claimLimited(p: ClaimParams, rule: ConcurrencyRule): Promise<Job[]> {
    const rows = (await this.#run(() => this.#transaction(async (tx) => {
      await tx.q(this.#q.claimLock, [`${this.schema}.${p.queue}`]);
      return tx.q(p.byKey ? this.#q.claimLimitedByKey : this.#q.claimLimited,
        [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, rule.limit, JSON.stringify(rule.limits), rule.groupFifo]);
    }), `claim from ${p.queue}`)) as unknown as (PgJobRow & { sort_key: number | null })[];
    return inClaimOrder(rows.map(({ sort_key, ...row }) => ({ key: sort_key, job: pgRowToJob(row) })), p.byKey === true);
  }

  async jobsComplete(items: readonly CompleteItem[], now: number): Promise<LeaseResult[]> {
    const { rows, refused } = await this.#applyEach(
      items,
      (batch) => this.#db.q(this.#q.complete, [batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => i.result), now]),
      'complete jobs', 'result', (i) => `complete job ${i.lease.jobId}`,
    );
    const done = leasesOf(rows);
    const learned = items.filter((i) => i.learn && done.has(leaseKey(i.lease))).map((i) => i.learn!);
    if (learned.length > 0) await this.#learn(learned);
    return leaseResults((ids) => this.#lookup(ids), items.map((i) => i.lease), done, () => ({ ok: true as const }), refused);
  }

  /** Policy sjf: folds the run times of applied acks into their names' estimates. An estimate is a hint: a failure to store one fails no ack. */
  async #learn(samples: readonly NonNullable<CompleteItem['learn']>[]): Promise<void> {
    const params = [samples.map((l) => l.queue), samples.map((l) => l.name), samples.map((l) => l.runMs), samples.map((l) => l.weightPct)];
    try {
      await this.#db.q(this.#q.estimatesLearn, params);
    } catch {
      // The acks are stored; the next samples of the name teach the estimate.
    }
  }

  async runEstimateGet(queue: string, name: string): Promise<number | null> {
    const rows = await this.#run(() => this.#db.q(this.#q.estimateGet, [queue, name]), 'read a run time estimate');
    return rows[0] ? (rows[0].mean_ms as number) : null;
  }

  async jobsFail(items: readonly FailItem[], now: number): Promise<FailResult[]> {
    const channel = this.#notifyChannel();
    const { rows, refused } = await this.#applyEach(
      items,
      (batch) => {
        const params = [
          batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => i.error),
          batch.map((i) => i.retryAt), batch.map((i) => (i.unrecoverable ? 1 : 0)), now,
        ];
        return this.#transaction(async (tx) => [...(await tx.q(this.#q.failDead, params)), ...(await tx.q(this.#q.failRetry, [...params, channel]))]);
      },
      'record failed attempts', 'error', (i) => `record the failed attempt of job ${i.lease.jobId}`,
    );
    const hits = leasesOf(rows as unknown as { id: string; token: number; state: JobState; dead_reason: DeadReason | null }[]);
    return leaseResults((ids) => this.#lookup(ids), items.map((i) => i.lease), hits, (r) => ({ ok: true as const, state: r.state, deadReason: r.dead_reason }), refused);
  }

  async jobsExtend(items: readonly ExtendItem[], now: number): Promise<ExtendResult[]> {
    const { rows, refused } = await this.#applyEach(
      items,
      (batch) => this.#db.q(this.#q.extend, [batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => now + i.leaseMs), now, batch.map((i) => i.workerId ?? null)]),
      'extend leases', 'leaseMs', (i) => `extend the lease of job ${i.lease.jobId}`,
    );
    const hits = leasesOf(rows as unknown as { id: string; token: number; lease_expires_at: number }[]);
    return leaseResults((ids) => this.#lookup(ids), items.map((i) => i.lease), hits, (r) => ({ ok: true as const, leaseExpiresAt: r.lease_expires_at }), refused);
  }

  async jobsShorten(items: readonly ShortenItem[], now: number): Promise<boolean[]> {
    const rows = await this.#run(
      () => this.#db.q(this.#q.shorten, [items.map((i) => i.lease.jobId), items.map((i) => i.lease.token), items.map((i) => i.expiresAt), items.map((i) => i.until), now]),
      'shorten leases',
    );
    const hit = new Set((rows as unknown as { id: string; token: number }[]).map((r) => `${r.id}/${r.token}`));
    return items.map((i) => hit.has(`${i.lease.jobId}/${i.lease.token}`));
  }

  async jobsReport(items: readonly ReportItem[], now: number, keepLogs: number): Promise<LeaseResult[]> {
    checkKeepLogs(keepLogs);
    const { merged, of } = mergeReports(items);
    const { rows, refused } = await this.#applyEach(
      merged, (batch) => this.#db.q(this.#q.report, reportParams(batch, now, keepLogs)),
      'report progress and log lines', (_, item) => (item ? reportField(item) : 'progress or logs'), reportDoing,
    );
    // Keyed by lease, not job: of two leases of one job in a call, only the held one applied.
    const results = await leaseResults((ids) => this.#lookup(ids), merged.map((i) => i.lease), reportedLeases(rows), () => ({ ok: true as const }), refused);
    return of.map((m) => results[m]!);
  }

  async jobsRelease(leases: readonly Lease[], now: number): Promise<LeaseResult[]> {
    const rows = await this.#run(
      () => this.#db.q(this.#q.release, [leases.map((l) => l.jobId), leases.map((l) => l.token), now, this.#notifyChannel()]),
      'release jobs',
    );
    return leaseResults((ids) => this.#lookup(ids), leases, leasesOf(rows), () => ({ ok: true as const }));
  }

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
  workerUnregister(id: string): Promise<void> { return cluster.workerUnregister(this.#ctx(), id); }
  workersReapDead(p: { now: number; limit: number; self?: string | null | undefined }): Promise<ReapedJob[]> { return cluster.workersReapDead(this.#ctx(), p); }
  asLeader<T>(name: string, holder: string, leaseMs: number, duty: (store: Store) => Promise<T>): Promise<{ led: true; value: T } | { led: false }> {
    return cluster.asLeader(this.#ctx(), name, holder, leaseMs, duty);
  }
  leaderResign(name: string, holder: string): Promise<void> { return cluster.leaderResign(this.#ctx(), name, holder); }
  tablesVacuum(): Promise<boolean> { return cluster.tablesVacuum(this.#ctx()); }
  countsRollup(): Promise<void> { return queues.countsRollup(this.#ctx()); }

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
  rateLimitTake(p: RateBucket & { want: number; now: number }): Promise<RateTaken> { return rateLimits.rateLimitTake(this.#ctx(), p); }
  rateLimitGiveBack(p: RateBucket & { count: number; since: number }): Promise<void> { return rateLimits.rateLimitGiveBack(this.#ctx(), p); }
  rateLimitRead(p: RateBucket & { now: number }): Promise<RateTaken> { return rateLimits.rateLimitRead(this.#ctx(), p); }

  /** The context of an operator read: on the read pool, or, in a view bound to a transaction, in it. */
  #readCtx(): PgJobsContext {
    return { ...this.#ctx(), db: this.#tx ?? this.#reads };
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

/** Whether an insert of `rows` needs the keyed statement: a row has an idempotency key or a unique key. */
function hasKeys(rows: readonly NewJobRow[]): boolean {
  return rows.some((r) => r.idempotency || r.uniqueKey);
}
