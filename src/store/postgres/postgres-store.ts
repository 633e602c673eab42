import { InvalidArgumentError, SchemaTooNewError } from '../../core/errors.ts';
import { compareClaimOrder, emptyCounts, type DeadReason, type Job, type JobState, type Lease, type QueueStats } from '../../core/job.ts';
import { checkLimit } from '../../core/limits.ts';
import type { QueueConfig } from '../../core/queue-config.ts';
import type {
  CancelResult, ClaimParams, CompleteItem, ExtendItem, ExtendResult, FailItem, FailResult, LeaseResult, ListParams,
  NewJobRow, ReapedJob, RetryResult, Store, StoreCapabilities, StoredQueue, WorkerRegistration,
} from '../store.ts';
import { PG_LATEST_SCHEMA_VERSION, PG_MIGRATIONS } from './migrations.ts';
import { PgListener, PgPool, type Executor, type Row, type TxExecutor } from './pg-client.ts';
import { translatePgError } from './pg-errors.ts';
import { pgRowToJob, type PgJobRow } from './rows.ts';
import { pgStatements, type PgStatements } from './statements.ts';

export interface PostgresStoreOptions {
  /** postgres:// URL. */
  url: string;
  /** Schema holding Spool's tables (created if missing). Default `spool`. */
  schema?: string;
  /** Connections in this process's pool. Default 10. */
  poolSize?: number;
  /**
   * Use LISTEN/NOTIFY to wake consumers in other processes at once. Turn off behind
   * a transaction-mode pooler (PgBouncer), where LISTEN does not work; consumers then poll.
   */
  notify?: boolean;
  historyMax?: number;
  /** Run migrations on open (default true). With false, a database behind the latest schema is refused. */
  migrate?: boolean;
  /** Called once per outage and once on recovery, never per failed query. */
  onConnectionChange?: (up: boolean, detail: string) => void;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;
/** Dead row versions in `jobs` worth a vacuum: about a second of claims and acks at full speed. */
const VACUUM_MIN_DEAD_ROWS = 20_000;
const NOTIFY_CHANNEL = 'spool_ready';
/** Advisory lock key for migrations: a constant, xor'd with the schema's hash so schemas migrate independently. */
const MIGRATION_LOCK = 0x5f00_1000;



/** Opens a PostgreSQL store, migrating its schema under an advisory lock. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  try {
    await store.init(options.migrate !== false);
  } catch (err) {
    await store.close();
    throw err;
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
    this.#pool = new PgPool(options.url, options.poolSize ?? 10);
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
    await this.#run(async () => {
      const s = this.schema;
      await this.#pool.transaction(async (tx) => {
        await tx.q(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [MIGRATION_LOCK, s]);
        await tx.q(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await tx.q(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer NOT NULL)`);
        const rows = await tx.q(`SELECT max(version) AS v FROM ${s}.schema_version`);
        const current = (rows[0]?.v as number | null) ?? 0;
        this.migratedFrom = current;
        if (current > PG_LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(`PostgreSQL schema "${s}"`, current, PG_LATEST_SCHEMA_VERSION);
        if (current < PG_LATEST_SCHEMA_VERSION && !migrate) {
          throw new SchemaTooNewError(`PostgreSQL schema "${s}" (behind: run \`spool migrate\`)`, current, PG_LATEST_SCHEMA_VERSION);
        }
        for (const m of PG_MIGRATIONS) {
          if (m.version <= current) continue;
          await tx.q(m.sql(s));
          await tx.q(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [m.version]);
        }
      });
    }, 'migrate the schema');
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
    await this.#run(() => this.#db.q(this.#q.insert, insertParams(rows, this.#notifyChannel())), 'add jobs');
  }

  /**
   * Runs the insert inside a caller's transaction: the jobs exist if and only if it commits.
   * Takes a postgres.js transaction (`sql.begin(async (tx) => …)`) or a `pg` client inside BEGIN.
   * The NOTIFY that wakes consumers is part of the same transaction, so it fires on commit only.
   */
  async jobsInsertManyInTransaction(tx: unknown, rows: readonly NewJobRow[]): Promise<void> {
    if (rows.length === 0) return;
    const params = insertParams(rows, this.#notifyChannel());
    const t = tx as { unsafe?: unknown; query?: unknown };
    if (typeof tx === 'function' && typeof t.unsafe === 'function') {
      await this.#run(() => (tx as unknown as { unsafe(text: string, values: unknown[]): Promise<unknown> }).unsafe(this.#q.insert, params), 'add jobs in your transaction');
    } else if (typeof tx === 'object' && tx !== null && typeof t.query === 'function') {
      await this.#run(() => (tx as { query(text: string, values: unknown[]): Promise<unknown> }).query(this.#q.insert, params), 'add jobs in your transaction');
    } else {
      throw new InvalidArgumentError('tx', 'tx must be a postgres.js transaction (the `sql` inside sql.begin) or a pg client that has run BEGIN');
    }
  }

  async jobsClaim(p: ClaimParams): Promise<Job[]> {
    const rows = await this.#run(
      () => this.#db.q(this.#q.claim, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null]),
      `claim from ${p.queue}`,
    );
    return (rows as unknown as PgJobRow[]).map(pgRowToJob).sort(compareClaimOrder);
  }

  async jobsComplete(items: readonly CompleteItem[], now: number): Promise<LeaseResult[]> {
    const done = await this.#run(
      () => this.#db.q(this.#q.complete, [items.map((i) => i.lease.jobId), items.map((i) => i.lease.token), items.map((i) => i.result), now]),
      'complete jobs',
    );
    const ok = new Set((done as unknown as { id: string }[]).map((r) => r.id));
    return this.#leaseResults(items.map((i) => i.lease), ok);
  }

  async jobsFail(items: readonly FailItem[], now: number): Promise<FailResult[]> {
    const params = [
      items.map((i) => i.lease.jobId), items.map((i) => i.lease.token), items.map((i) => i.error),
      items.map((i) => i.retryAt), items.map((i) => (i.unrecoverable ? 1 : 0)), now,
    ];
    const rows = await this.#run(
      () => this.#transaction(async (tx) => [...(await tx.q(this.#q.failDead, params)), ...(await tx.q(this.#q.failRetry, [...params, this.#notifyChannel()]))]),
      'record failed attempts',
    );
    const byId = new Map((rows as unknown as { id: string; state: JobState; dead_reason: DeadReason | null }[]).map((r) => [r.id, r]));
    const misses = await this.#lookup(items.filter((i) => !byId.has(i.lease.jobId)).map((i) => i.lease.jobId));
    return items.map((i) => {
      const r = byId.get(i.lease.jobId);
      if (r) return { ok: true as const, state: r.state, deadReason: r.dead_reason };
      const cur = misses.get(i.lease.jobId);
      return { ok: false as const, state: cur?.state ?? null, token: cur?.token ?? null };
    });
  }

  async jobsExtend(items: readonly ExtendItem[], now: number): Promise<ExtendResult[]> {
    const rows = await this.#run(
      () => this.#db.q(this.#q.extend, [items.map((i) => i.lease.jobId), items.map((i) => i.lease.token), items.map((i) => now + i.leaseMs), now]),
      'extend leases',
    );
    const byId = new Map((rows as unknown as { id: string; lease_expires_at: number }[]).map((r) => [r.id, r.lease_expires_at]));
    const misses = await this.#lookup(items.filter((i) => !byId.has(i.lease.jobId)).map((i) => i.lease.jobId));
    return items.map((i) => {
      const at = byId.get(i.lease.jobId);
      if (at !== undefined) return { ok: true as const, leaseExpiresAt: at };
      const cur = misses.get(i.lease.jobId);
      return { ok: false as const, state: cur?.state ?? null, token: cur?.token ?? null };
    });
  }

  async jobsRelease(leases: readonly Lease[], now: number): Promise<LeaseResult[]> {
    const rows = await this.#run(
      () => this.#db.q(this.#q.release, [leases.map((l) => l.jobId), leases.map((l) => l.token), now, this.#notifyChannel()]),
      'release jobs',
    );
    return this.#leaseResults(leases, new Set((rows as unknown as { id: string }[]).map((r) => r.id)));
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
    const previous = new Map((live as unknown as { id: string; state: JobState; queue: string }[]).map((r) => [r.id, r]));
    const cancelled = new Set((moved as unknown as { id: string }[]).map((r) => r.id));
    const finished = await this.#lookup(ids.filter((id) => !previous.has(id)));
    return ids.map((id): CancelResult => {
      const p = previous.get(id);
      if (p) return { found: true, queue: p.queue, previous: p.state, cancelled: cancelled.has(id) };
      const f = finished.get(id);
      return f ? { found: true, queue: f.queue, previous: f.state, cancelled: false } : { found: false };
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

  async jobsReapExpired(p: { now: number; limit: number }): Promise<ReapedJob[]> {
    const rows = await this.#run(
      () => this.#transaction(async (tx) => {
        const expired = (await tx.q(this.#q.lockExpired, [p.now, p.limit])).map((r) => r.id as string);
        if (expired.length === 0) return [];
        const dead = await tx.q(this.#q.reapDead, [expired, p.now]);
        const ready = await tx.q(this.#q.reapReady, [expired, p.now, this.#notifyChannel()]);
        return [...dead, ...ready];
      }),
      'reap expired leases',
    );
    return (rows as unknown as { id: string; queue: string; state: JobState; dead_reason: DeadReason | null }[]).map((r) => ({
      id: r.id, queue: r.queue, state: r.state, deadReason: r.dead_reason ?? null,
    }));
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

  async jobsList(p: ListParams): Promise<Job[]> {
    const after = p.after ?? '00000000-0000-0000-0000-000000000000';
    const text = p.state === undefined ? this.#q.listAll : p.state === 'completed' || p.state === 'dead' || p.state === 'cancelled' ? this.#q.listFinished : this.#q.listLive;
    const params = p.state === undefined ? [p.queue, after, p.limit] : [p.queue, p.state, after, p.limit];
    const rows = await this.#run(() => this.#db.q(text, params), 'list jobs');
    return (rows as unknown as PgJobRow[]).map(pgRowToJob);
  }

  async jobsNextDueAt(): Promise<number | null> {
    const rows = await this.#run(() => this.#db.q(this.#q.nextDue, []), 'find the next due job');
    return (rows[0]?.at as number | null) ?? null;
  }

  async queueStats(queue: string | null, now: number): Promise<QueueStats[]> {
    const rows = await this.#run(() => this.#db.q(this.#q.stats, [queue]), 'read queue stats');
    const byQueue = new Map<string, QueueStats>();
    const entry = (name: string): QueueStats => {
      let s = byQueue.get(name);
      if (!s) byQueue.set(name, (s = { queue: name, counts: emptyCounts(), oldestReadyAgeMs: 0, paused: false }));
      return s;
    };
    for (const r of rows as unknown as { queue: string; kind: string; state: JobState | null; n: number; at: number | null; paused: boolean | null }[]) {
      const s = entry(r.queue);
      if (r.kind === 'queue') s.paused = r.paused === true;
      else if (r.kind === 'count') s.counts[r.state!] = r.n;
      else if (r.kind === 'oldest' && r.at !== null) s.oldestReadyAgeMs = Math.max(0, now - r.at);
    }
    if (queue !== null) entry(queue);
    return [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1));
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

  async workerRegister(w: WorkerRegistration, now: number, ttlMs: number): Promise<void> {
    await this.#run(() => this.#db.q(this.#q.workerRegister, [w.id, w.host, w.pid, now, now + ttlMs]), 'register this process');
  }

  async workerHeartbeat(id: string, now: number, ttlMs: number): Promise<boolean> {
    const rows = await this.#run(() => this.#db.q(this.#q.workerHeartbeat, [id, now, now + ttlMs]), 'send a heartbeat');
    return rows.length === 1;
  }

  async workerUnregister(id: string): Promise<void> {
    await this.#run(() => this.#db.q(this.#q.workerUnregister, [id]), 'unregister this process');
  }

  async workersReapDead(p: { now: number; limit: number }): Promise<ReapedJob[]> {
    const rows = await this.#run(
      () => this.#transaction(async (tx) => {
        const dead = (await tx.q(this.#q.deadWorkers, [p.now])).map((r) => r.id as string);
        if (dead.length === 0) return [];
        const orphans = (await tx.q(this.#q.lockOrphaned, [dead, p.limit])).map((r) => r.id as string);
        let reaped: Row[] = [];
        if (orphans.length > 0) {
          reaped = [
            ...(await tx.q(this.#q.reapDead, [orphans, p.now])),
            ...(await tx.q(this.#q.reapReady, [orphans, p.now, this.#notifyChannel()])),
          ];
        }
        await tx.q(this.#q.workersDeleteDead, [p.now]);
        return reaped;
      }),
      'release the leases of dead workers',
    );
    return (rows as unknown as { id: string; queue: string; state: JobState; dead_reason: DeadReason | null }[]).map((r) => ({
      id: r.id, queue: r.queue, state: r.state, deadReason: r.dead_reason ?? null,
    }));
  }

  /**
   * Runs `duty` as the leader `name`, or not at all. Leadership is a lease row
   * timed by the database's clock; the duty runs in a transaction that first
   * re-checks the lease under a shared row lock, and a takeover must update that
   * row, so a takeover waits for a running duty and a deposed leader's duty
   * cannot start: two processes never act as leader at once.
   */
  async asLeader<T>(name: string, holder: string, leaseMs: number, duty: (store: Store) => Promise<T>): Promise<{ led: true; value: T } | { led: false }> {
    const won = await this.#run(() => this.#db.q(this.#q.leaderAcquire, [name, holder, leaseMs]), 'renew leadership');
    if (won.length === 0) return { led: false };
    const epoch = won[0]!.epoch as number;
    return this.#run(
      () => this.#transaction(async (tx) => {
        const held = await tx.q(this.#q.leaderCheck, [name, holder, epoch]);
        if (held.length === 0) return { led: false as const };
        return { led: true as const, value: await duty(this.#bound(tx)) };
      }),
      'run leader duties',
    );
  }

  /**
   * Vacuums the live `jobs` table when claims and acks have left many dead rows in it.
   * Every claim and ack leaves a dead row version, and dead entries at the head of the
   * ready index make each claim scan further; autovacuum checks only once a minute,
   * too rarely for a table that turns over thousands of rows a second. Runs outside any
   * transaction (VACUUM cannot run in one) and never blocks other work.
   */
  async tablesVacuum(minDeadRows = VACUUM_MIN_DEAD_ROWS): Promise<boolean> {
    const [row] = await this.#run(() => this.#db.q(this.#q.deadTuples), 'read table statistics');
    if (!row || (row.dead as number) < minDeadRows) return false;
    await this.#run(() => this.#db.q(`VACUUM (ANALYZE) ${this.schema}.jobs`), 'vacuum the jobs table');
    return true;
  }

  /** Gives up leadership `name` at once, so another process takes over without waiting for the lease. */
  async leaderResign(name: string, holder: string): Promise<void> {
    await this.#run(() => this.#db.q(this.#q.leaderResign, [name, holder]), 'resign leadership');
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

  async #run<T>(fn: () => Promise<T>, doing: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translatePgError(err, doing);
    }
  }

  /** Current state and token of jobs, wherever they are. */
  async #lookup(ids: readonly string[]): Promise<Map<string, { state: JobState; token: number; queue: string }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.#run(() => this.#db.q(this.#q.lookup, [ids as string[]]), 'read job states');
    return new Map((rows as unknown as { id: string; state: JobState; token: number; queue: string }[]).map((r) => [r.id, r]));
  }

  async #leaseResults(leases: readonly Lease[], ok: Set<string>): Promise<LeaseResult[]> {
    const misses = await this.#lookup(leases.filter((l) => !ok.has(l.jobId)).map((l) => l.jobId));
    return leases.map((l) => {
      if (ok.has(l.jobId)) return { ok: true as const };
      const cur = misses.get(l.jobId);
      return { ok: false as const, state: cur?.state ?? null, token: cur?.token ?? null };
    });
  }
}

interface QueueRow {
  name: string;
  config: unknown;
  paused: boolean;
  created_at: number;
  updated_at: number;
}

function toStoredQueue(row: QueueRow): StoredQueue {
  return { name: row.name, config: row.config as QueueConfig, paused: row.paused, createdAt: row.created_at, updatedAt: row.updated_at };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parallel arrays of mixed element types
function insertParams(rows: readonly NewJobRow[], channel: string | null): any[] {
  return [
    rows.map((r) => r.id), rows.map((r) => r.queue), rows.map((r) => r.name), rows.map((r) => r.payload),
    rows.map((r) => r.priority), rows.map((r) => r.state), rows.map((r) => r.runAt), rows.map((r) => r.maxAttempts),
    rows.map((r) => r.maxStalls), rows.map((r) => r.createdAt), channel,
  ];
}
