import { ClosedError, InvalidArgumentError } from '../../core/errors.ts';
import { compareClaimOrder, leaseKey, type DeadReason, type Job, type JobLogLine, type JobState, type Lease, type QueueStats } from '../../core/job.ts';
import { checkLimit, describe } from '../../core/limits.ts';
import { checkOptionKeys, checkOptionType } from '../../core/options.ts';
import type { QueueConfig } from '../../core/queue-config.ts';
import type {
  CancelResult, ClaimParams, CompleteItem, DeleteResult, ExtendItem, ExtendResult, FailItem, FailResult, ItemOutcome, LeaseMiss, LeaseResult,
  ListParams, NewJobRow, SearchPage, SearchParams, QueueDeleteParams, QueueDeleteResult, ReapedJob, ReportItem, RetryResult, Store, StoreCapabilities, StoredQueue, TokenInfo,
  TokenRow, NewTokenRow, TokenUse, WorkerRegistration,
} from '../store.ts';
import { checkKeepLogs, reportDoing, reportField } from '../job-report.ts';
import { ID_MAX, NIL_ID, searchPage } from '../payload-search.ts';
import { callerTransaction, PgListener, PgPool, type Executor, type Rows, type TxExecutor } from './pg-client.ts';
import type { PostgresStoreOptions } from './pg-options.ts';
import { applyEach } from './apply-each.ts';
import { pgOpenError, translatePgError } from './pg-errors.ts';
import * as cluster from './cluster.ts';
import { migrateSchema } from './migrate.ts';
import { mergeReports, reportedLeases, reportParams } from './report.ts';
import { insertParams, pgRowToJob, statsFromRows, toStoredQueue, type PgJobRow, type QueueRow } from './rows.ts';
import { pgStatements, type PgStatements } from './statements.ts';
import * as tokens from './tokens.ts';

export type { PostgresStoreOptions } from './pg-options.ts';

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const NOTIFY_CHANNEL = 'spool_ready';

/** Every key of {@link PostgresStoreOptions}; others are refused. */
const PG_OPTIONS: Record<keyof PostgresStoreOptions, true> = { url: true, schema: true, poolSize: true, notify: true, historyMax: true, migrate: true };
export const PG_OPTION_KEYS: readonly (keyof PostgresStoreOptions)[] = Object.keys(PG_OPTIONS) as (keyof PostgresStoreOptions)[];

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
export class PostgresStore implements Store {
  readonly capabilities: StoreCapabilities;
  readonly location: string;
  readonly schema: string;
  readonly #pool: PgPool;
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
      this.#q = p.#q;
      this.#notify = p.#notify;
      this.#db = bind.tx;
      this.#tx = bind.tx;
      return;
    }
    checkOptionKeys(options, PG_OPTION_KEYS, 'openPostgresStore');
    if (options === undefined || typeof options.url !== 'string' || !/^postgres(ql)?:\/\//.test(options.url) || !URL.canParse(options.url)) {
      throw new InvalidArgumentError('url', `openPostgresStore needs a url like postgres://user:password@host:5432/database (got ${typeof options?.url === 'string' ? 'a string that is not a URL' : describe(options?.url)})`);
    }
    checkOptionType(options.notify, 'notify', 'boolean');
    checkOptionType(options.migrate, 'migrate', 'boolean');
    const poolSize = checkLimit('poolSize', options.poolSize);
    const schema = options.schema ?? 'spool';
    if (!SCHEMA_RE.test(schema)) throw new InvalidArgumentError('schema', `schema must be a lowercase SQL identifier (got ${JSON.stringify(schema)})`);
    this.schema = schema;
    const historyMax = checkLimit('historyMax', options.historyMax);
    this.#notify = options.notify !== false;
    const url = new URL(options.url);
    this.location = `postgres://${url.hostname}:${url.port || 5432}${url.pathname} (schema ${schema})`;
    this.capabilities = {
      crossProcessNotify: this.#notify,
      durability: 'PostgreSQL commit (synchronous_commit as configured on the server)',
    };
    this.#pool = new PgPool(options.url, poolSize);
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

  async jobsInsertMany(rows: readonly NewJobRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#run(() => this.#db.q(this.#q.insert, insertParams(rows, this.#notifyChannel())), 'add jobs', insertField);
  }

  async jobsInsertEach(rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
    if (rows.length === 0) return [];
    const channel = this.#notifyChannel();
    const { refused } = await this.#applyEach(
      rows, (batch) => this.#db.q(this.#q.insert, insertParams(batch, channel)), 'add jobs', insertField, (r) => `add job ${r.id} to ${r.queue}`,
    );
    return rows.map((_, i): ItemOutcome => {
      const error = refused?.get(i);
      return error ? { ok: false, error } : STORED;
    });
  }

  /**
   * Runs the insert inside a caller's transaction: the jobs exist if and only if it commits.
   * Takes a postgres.js transaction (`sql.begin(async (tx) => …)`) or a `pg` client inside BEGIN.
   * The NOTIFY that wakes consumers is part of the same transaction, so it fires on commit only.
   */
  async jobsInsertManyInTransaction(tx: unknown, rows: readonly NewJobRow[]): Promise<void> {
    if (rows.length === 0) return;
    const run = callerTransaction(tx);
    await this.#run(() => run(this.#q.insert, insertParams(rows, this.#notifyChannel())), 'add jobs in your transaction', insertField);
  }

  async jobsClaim(p: ClaimParams): Promise<Job[]> {
    const rows = await this.#run(
      () => this.#db.q(this.#q.claim, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null]),
      `claim from ${p.queue}`,
    );
    return (rows as unknown as PgJobRow[]).map(pgRowToJob).sort(compareClaimOrder);
  }

  async jobsComplete(items: readonly CompleteItem[], now: number): Promise<LeaseResult[]> {
    const { rows, refused } = await this.#applyEach(
      items,
      (batch) => this.#db.q(this.#q.complete, [batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => i.result), now]),
      'complete jobs', 'result', (i) => `complete job ${i.lease.jobId}`,
    );
    return this.#leaseResults(items.map((i) => i.lease), idsOf(rows), () => ({ ok: true as const }), refused);
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
    const byId = new Map((rows as unknown as { id: string; state: JobState; dead_reason: DeadReason | null }[]).map((r) => [r.id, r]));
    return this.#leaseResults(items.map((i) => i.lease), byId, (r) => ({ ok: true as const, state: r.state, deadReason: r.dead_reason }), refused);
  }

  async jobsExtend(items: readonly ExtendItem[], now: number): Promise<ExtendResult[]> {
    const { rows, refused } = await this.#applyEach(
      items,
      (batch) => this.#db.q(this.#q.extend, [batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => now + i.leaseMs), now, batch.map((i) => i.workerId ?? null)]),
      'extend leases', 'leaseMs', (i) => `extend the lease of job ${i.lease.jobId}`,
    );
    const byId = new Map((rows as unknown as { id: string; lease_expires_at: number }[]).map((r) => [r.id, r.lease_expires_at]));
    return this.#leaseResults(items.map((i) => i.lease), byId, (at) => ({ ok: true as const, leaseExpiresAt: at }), refused);
  }

  async jobsReport(items: readonly ReportItem[], now: number, keepLogs: number): Promise<LeaseResult[]> {
    checkKeepLogs(keepLogs);
    const { merged, of } = mergeReports(items);
    const { rows, refused } = await this.#applyEach(
      merged, (batch) => this.#db.q(this.#q.report, reportParams(batch, now, keepLogs)),
      'report progress and log lines', (_, item) => (item ? reportField(item) : 'progress or logs'), reportDoing,
    );
    // Keyed by lease, not job: of two leases of one job in a call, only the held one applied.
    const results = await this.#leaseResults(merged.map((i) => i.lease), reportedLeases(rows), () => ({ ok: true as const }), refused, leaseKey);
    return of.map((m) => results[m]!);
  }

  async jobsRelease(leases: readonly Lease[], now: number): Promise<LeaseResult[]> {
    const rows = await this.#run(
      () => this.#db.q(this.#q.release, [leases.map((l) => l.jobId), leases.map((l) => l.token), now, this.#notifyChannel()]),
      'release jobs',
    );
    return this.#leaseResults(leases, idsOf(rows), () => ({ ok: true as const }));
  }

  async jobsCancel(ids: readonly string[], now: number): Promise<CancelResult[]> {
    const { live, moved } = await this.#run(
      () => this.#transaction(async (tx) => {
        const live = await tx.q(this.#q.lockLive, [ids as string[]]);
        const moved = await tx.q(this.#q.cancel, [ids as string[], now]);
        return { live, moved };
      }),
      'cancel jobs',
    );
    const previous = new Map((live as unknown as { id: string; state: JobState; queue: string; token: number }[]).map((r) => [r.id, r]));
    const cancelled = new Set((moved as unknown as { id: string }[]).map((r) => r.id));
    const finished = await this.#lookup(ids.filter((id) => !previous.has(id)));
    return ids.map((id): CancelResult => {
      const p = previous.get(id);
      if (p) return { found: true, queue: p.queue, previous: p.state, token: p.token, cancelled: cancelled.has(id) };
      const f = finished.get(id);
      return f ? { found: true, queue: f.queue, previous: f.state, token: f.token, cancelled: false } : { found: false };
    });
  }

  async jobsRetry(ids: readonly string[], now: number): Promise<RetryResult[]> {
    const { before, retried } = await this.#run(
      () => this.#transaction(async (tx) => {
        const before = await tx.q(this.#q.lockAny, [ids as string[]]);
        const a = await tx.q(this.#q.retryFinished, [ids as string[], now]);
        const b = await tx.q(this.#q.retryScheduled, [ids as string[], now]);
        const channel = this.#notifyChannel();
        if (channel && a.length + b.length > 0) await tx.q(`SELECT pg_notify($1, q) FROM unnest($2::text[]) AS q`, [channel, [...new Set([...a, ...b].map((r) => r.queue as string))]]);
        return { before, retried: [...a, ...b] };
      }),
      'retry jobs',
    );
    const prev = new Map((before as unknown as { id: string; state: JobState; queue: string }[]).map((r) => [r.id, r]));
    const done = new Set((retried as unknown as { id: string }[]).map((r) => r.id));
    return ids.map((id): RetryResult => {
      const p = prev.get(id);
      return p ? { found: true, queue: p.queue, previous: p.state, retried: done.has(id) } : { found: false };
    });
  }

  async jobsDelete(ids: readonly string[], _now: number): Promise<DeleteResult[]> {
    if (ids.length === 0) return [];
    const { locked, gone } = await this.#run(
      () => this.#transaction(async (tx) => {
        // Locked first in both tables: a claim skips these rows, a retry or ack waits, so `previous` is the state deleted from.
        const locked = await tx.q(this.#q.lockAny, [ids as string[]]);
        const live = await tx.q(this.#q.deleteLiveById, [ids as string[]]);
        const finished = await tx.q(this.#q.deleteFinishedById, [ids as string[]]);
        return { locked, gone: [...live, ...finished] };
      }),
      'delete jobs',
    );
    type Found = { id: string; queue: string; state: JobState };
    const deleted = new Map((gone as unknown as Found[]).map((r) => [r.id, r]));
    const kept = new Map((locked as unknown as Found[]).map((r) => [r.id, r]));
    // Neither locked nor deleted: unknown, or moving between the tables when the lock was taken.
    const moved = await this.#lookup(ids.filter((id) => !deleted.has(id) && !kept.has(id)));
    return ids.map((id): DeleteResult => {
      const d = deleted.get(id);
      if (d) return { found: true, queue: d.queue, previous: d.state, deleted: true };
      const k = kept.get(id) ?? moved.get(id);
      return k ? { found: true, queue: k.queue, previous: k.state, deleted: false } : { found: false };
    });
  }

  async jobsReapExpired(p: { now: number; limit: number }): Promise<ReapedJob[]> {
    return this.#run(
      () => this.#transaction(async (tx) => this.#reap(tx, (await tx.q(this.#q.lockExpired, [p.now, p.limit])).map((r) => r.id as string), p.now)),
      'reap expired leases',
    );
  }

  async jobsPromoteDue(p: { now: number; limit: number }): Promise<string[]> {
    const rows = await this.#run(() => this.#db.q(this.#q.promote, [p.now, p.limit, this.#notifyChannel()]), 'promote due jobs');
    return [...new Set((rows as unknown as { queue: string }[]).map((r) => r.queue))];
  }

  async jobsPurge(p: { queue: string; limit: number }): Promise<number> {
    return (await this.#run(() => this.#db.q(this.#q.purge, [p.queue, p.limit]), 'purge a queue')).count;
  }

  async jobsDeleteFinished(p: { before: Record<'completed' | 'dead' | 'cancelled', number>; limit: number }): Promise<number> {
    let deleted = 0;
    for (const state of ['completed', 'dead', 'cancelled'] as const) {
      const r = await this.#run(() => this.#db.q(this.#q.deleteFinished, [state, p.before[state], p.limit - deleted]), 'delete finished jobs');
      deleted += r.count;
      if (deleted >= p.limit) break;
    }
    return deleted;
  }

  async jobsGet(ids: readonly string[]): Promise<(Job | null)[]> {
    if (ids.length === 0) return [];
    const rows = await this.#run(() => this.#db.q(this.#q.get, [ids as string[]]), 'read jobs');
    const byId = new Map((rows as unknown as PgJobRow[]).map((r) => [r.id, pgRowToJob(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async jobLogs(id: string): Promise<JobLogLine[] | null> {
    const rows = await this.#run(() => this.#db.q(this.#q.logs, [id]), 'read the log lines of a job');
    return rows[0] ? (rows[0].logs as JobLogLine[]) : null;
  }

  async jobsList(p: ListParams): Promise<Job[]> {
    const after = p.after ?? NIL_ID;
    const text = p.state === undefined ? this.#q.listAll : p.state === 'completed' || p.state === 'dead' || p.state === 'cancelled' ? this.#q.listFinished : this.#q.listLive;
    const name = p.name ?? null;
    const to = p.to ?? ID_MAX;
    const params = p.state === undefined ? [p.queue, after, p.limit, name, to] : [p.queue, p.state, after, p.limit, name, to];
    const rows = await this.#run(() => this.#db.q(text, params), 'list jobs');
    return (rows as unknown as PgJobRow[]).map(pgRowToJob);
  }

  async jobsSearch(p: SearchParams): Promise<SearchPage> {
    const where = p.state === undefined ? 'all' : p.state === 'completed' || p.state === 'dead' || p.state === 'cancelled' ? 'finished' : 'live';
    const params = [p.queue, p.after ?? NIL_ID, p.to ?? ID_MAX, p.scanMax, p.limit, JSON.stringify(p.payload.equals), p.name ?? null, ...p.payload.path];
    if (p.state !== undefined) params.push(p.state);
    const rows = (await this.#run(() => this.#db.q(this.#q.search(where, p.payload.path.length), params), 'search jobs')) as unknown as (PgJobRow & { scan_n: number; scan_last: string | null })[];
    const jobs = rows.filter((r) => r.id !== null).map(pgRowToJob);
    return searchPage(jobs, p.limit, rows[0]?.scan_n ?? 0, rows[0]?.scan_last ?? null, p.scanMax);
  }

  async jobsNextDueAt(): Promise<number | null> {
    const rows = await this.#run(() => this.#db.q(this.#q.nextDue, []), 'find the next due job');
    return (rows[0]?.at as number | null) ?? null;
  }

  async queueStats(queue: string | null, now: number): Promise<QueueStats[]> {
    return statsFromRows(await this.#run(() => this.#db.q(this.#q.stats, [queue]), 'read queue stats'), queue, now);
  }

  async queueUpsert(name: string, config: QueueConfig, now: number): Promise<void> {
    await this.#run(() => this.#db.q(this.#q.queueUpsert, [name, JSON.stringify(config), now]), 'save queue settings');
  }

  async queueGet(name: string): Promise<StoredQueue | null> {
    const rows = await this.#run(() => this.#db.q(this.#q.queueGet, [name]), 'read queue settings');
    return rows[0] ? toStoredQueue(rows[0] as unknown as QueueRow) : null;
  }

  async queueList(): Promise<StoredQueue[]> {
    const rows = await this.#run(() => this.#db.q(this.#q.queueList, []), 'list queues');
    return (rows as unknown as QueueRow[]).map(toStoredQueue);
  }

  async queueSetPaused(name: string, paused: boolean, now: number): Promise<void> {
    await this.#run(() => this.#db.q(this.#q.queuePause, [name, paused, now]), 'pause or resume a queue');
  }

  async queueDelete(p: QueueDeleteParams, _now: number): Promise<QueueDeleteResult> {
    return this.#run(
      () => this.#transaction(async (tx): Promise<QueueDeleteResult> => {
        const row = await tx.q(this.#q.queueLock, [p.name]);
        const active = (await tx.q(this.#q.queueActive, [p.name]))[0]!.n as number;
        if (active > 0 && !p.force) return { found: true, deleted: false, activeJobs: active, jobsDeleted: 0, leases: [] };
        const live = (await tx.q(this.#q.queueDeleteLive, [p.name, p.force, p.limit])) as unknown as { id: string; state: JobState; token: number }[];
        const finished = live.length < p.limit ? (await tx.q(this.#q.queueDeleteFinished, [p.name, p.limit - live.length])).count : 0;
        const remaining = (await tx.q(this.#q.queueHasJobs, [p.name]))[0]!.remaining === true;
        if (!remaining && row.length > 0) await tx.q(this.#q.queueDeleteRow, [p.name]);
        const found = row.length > 0 || live.length + finished > 0;
        const leases = live.filter((r) => r.state === 'active').map((r) => ({ jobId: r.id, token: r.token }));
        return { found, deleted: found && !remaining, activeJobs: leases.length, jobsDeleted: live.length + finished, leases };
      }),
      `delete queue ${p.name}`,
    );
  }

  // Many processes on one database: registry, leadership, upkeep (see cluster.ts).
  workerRegister(w: WorkerRegistration, now: number, ttlMs: number): Promise<void> {
    return cluster.workerRegister(this.#ctx(), w, now, ttlMs);
  }
  workerHeartbeat(id: string, now: number, ttlMs: number): Promise<boolean> {
    return cluster.workerHeartbeat(this.#ctx(), id, now, ttlMs);
  }
  workerUnregister(id: string): Promise<void> {
    return cluster.workerUnregister(this.#ctx(), id);
  }
  workersReapDead(p: { now: number; limit: number }): Promise<ReapedJob[]> {
    return cluster.workersReapDead(this.#ctx(), p);
  }
  asLeader<T>(name: string, holder: string, leaseMs: number, duty: (store: Store) => Promise<T>): Promise<{ led: true; value: T } | { led: false }> {
    return cluster.asLeader(this.#ctx(), name, holder, leaseMs, duty);
  }
  leaderResign(name: string, holder: string): Promise<void> {
    return cluster.leaderResign(this.#ctx(), name, holder);
  }
  tablesVacuum(): Promise<boolean> {
    return cluster.tablesVacuum(this.#ctx());
  }

  // API tokens (see tokens.ts).
  tokensInsert(row: NewTokenRow): Promise<void> { return tokens.tokensInsert(this.#ctx(), row); }
  tokensList(): Promise<TokenInfo[]> { return tokens.tokensList(this.#ctx()); }
  tokensDelete(ids: readonly string[]): Promise<number> { return tokens.tokensDelete(this.#ctx(), ids); }
  tokenGet(id: string): Promise<TokenRow | null> { return tokens.tokenGet(this.#ctx(), id); }
  tokensExist(): Promise<boolean> { return tokens.tokensExist(this.#ctx()); }
  tokensEnabled(): Promise<boolean> { return tokens.tokensEnabled(this.#ctx()); }
  tokensMarkUsed(uses: readonly TokenUse[]): Promise<void> { return tokens.tokensMarkUsed(this.#ctx(), uses); }

  #ctx(): cluster.PgContext<Store> {
    return {
      db: this.#db, q: this.#q, schema: this.schema,
      run: (fn, doing) => this.#run(fn, doing),
      transaction: (fn) => this.#transaction(fn),
      reap: (tx, ids, now) => this.#reap(tx, ids, now),
      bound: (tx) => this.#bound(tx),
    };
  }

  async close(): Promise<void> {
    if (this.#tx) return; // a transaction-bound view owns no connections
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener?.close();
    await this.#pool.end().catch(() => {});
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

  /**
   * One result per lease: `ok(hit)` for those the statement changed (in `hits`, keyed by `key`:
   * the job id, or the lease), else the job's current state and token, read in one query, so
   * the caller can say why.
   */
  async #leaseResults<H, R>(
    leases: readonly Lease[], hits: Map<string, H>, ok: (hit: H) => R, refused: Map<number, Error> | null = null, key: (l: Lease) => string = (l) => l.jobId,
  ): Promise<(R | LeaseMiss)[]> {
    const misses = await this.#lookup(leases.filter((l, i) => !hits.has(key(l)) && !refused?.has(i)).map((l) => l.jobId));
    return leases.map((l, i) => {
      if (hits.has(key(l))) return ok(hits.get(key(l))!);
      const error = refused?.get(i);
      if (error) return { ok: false as const, state: null, token: null, error };
      const cur = misses.get(l.jobId);
      return { ok: false as const, state: cur?.state ?? null, token: cur?.token ?? null };
    });
  }

  /** Ends the leases of `ids` (locked by the caller) as expired attempts: dead when used up, else ready. */
  async #reap(tx: TxExecutor, ids: string[], now: number): Promise<ReapedJob[]> {
    if (ids.length === 0) return [];
    const rows = [...(await tx.q(this.#q.reapDead, [ids, now])), ...(await tx.q(this.#q.reapReady, [ids, now, this.#notifyChannel()]))];
    return (rows as unknown as { id: string; token: number; queue: string; state: JobState; dead_reason: DeadReason | null }[]).map((r) => ({
      id: r.id, token: r.token, queue: r.queue, state: r.state, deadReason: r.dead_reason ?? null,
    }));
  }
}

const STORED: ItemOutcome = Object.freeze({ ok: true as const });

/** The input an insert's data error is about: U+0000 in text (22021) can only be in the name (JSON text escapes it); otherwise the payload. */
const insertField = (sqlstate: string): string => (sqlstate === '22021' ? 'name' : 'payload');

function idsOf(rows: readonly Record<string, unknown>[]): Map<string, true> {
  return new Map(rows.map((r) => [r.id as string, true as const]));
}
