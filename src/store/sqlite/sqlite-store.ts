import { resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { ClosedError, InvalidArgumentError } from '../../core/errors.ts';
import { compareClaimOrder, type DeadReason, type Job, type JobLogLine, type JobState, type Lease, type QueueStats } from '../../core/job.ts';
import { checkLimit, describe } from '../../core/limits.ts';
import { checkOptionKeys } from '../../core/options.ts';
import type { QueueConfig } from '../../core/queue-config.ts';
import type {
  CancelResult, ClaimParams, CompleteItem, DeleteResult, ExtendItem, ExtendResult, FailItem, FailResult, ItemOutcome, LeaseMiss, LeaseResult,
  ListParams, NewJobRow, SearchPage, SearchParams, QueueDeleteParams, QueueDeleteResult, ReapedJob, ReportItem, RetryResult, Store, StoreCapabilities, StoredQueue, TokenInfo,
  TokenRow, NewTokenRow, TokenUse,
} from '../store.ts';
import { checkKeepLogs, logLinesJson, reportDoing, reportField } from '../job-report.ts';
import { GroupCommit } from './group-commit.ts';
import { openDatabase } from './open.ts';
import * as queues from './queues.ts';
import * as reads from './reads.ts';
import { rowToJob, type JobRow } from './rows.ts';
import { refusedItemError } from './sqlite-errors.ts';
import { prepareStatements } from './statements.ts';
import { SqliteTokens } from './tokens.ts';

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
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #group: GroupCommit;
  readonly #s: ReturnType<typeof prepareStatements>;
  readonly #tokens: SqliteTokens;

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
    this.#db = openDatabase(this.location, { memory, durability, busyTimeoutMs, maxDatabaseBytes: options.maxDatabaseBytes });
    this.#group = new GroupCommit(this.#db);
    this.#s = prepareStatements(this.#db, historyMax);
    this.#tokens = new SqliteTokens(this.#db, this.#group);
  }

  /** Groups committed so far; lets tests see group commit at work. */
  get commits(): number {
    return this.#group.commits;
  }

  jobsInsertMany(rows: readonly NewJobRow[]): Promise<void> {
    const insert = this.#s.insert;
    return this.#group.submit(() => {
      for (const r of rows) {
        insert.run(r.id, r.queue, r.name, r.payload, r.priority, r.state, r.runAt, r.maxAttempts, r.maxStalls, r.timeoutMs, r.trace, r.createdAt, r.createdAt);
      }
      this.#createQueues(rows, null);
    });
  }

  jobsInsertEach(rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
    const insert = this.#s.insert;
    return this.#group.submit(() => {
      const outcomes = this.#each(
        rows,
        (r): ItemOutcome => {
          insert.run(r.id, r.queue, r.name, r.payload, r.priority, r.state, r.runAt, r.maxAttempts, r.maxStalls, r.timeoutMs, r.trace, r.createdAt, r.createdAt);
          return STORED;
        },
        (r, err): ItemOutcome => ({ ok: false, error: refusedItemError(err, 'payload', `add job ${r.id} to ${r.queue}`) }),
      );
      this.#createQueues(rows, outcomes);
      return outcomes;
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

  jobsClaim(p: ClaimParams): Promise<Job[]> {
    return this.#group.submit(() => {
      this.#s.promoteQueue.run(p.now, p.queue, p.now);
      const rows = this.#s.claim.all(p.now + p.leaseMs, p.now, p.now, p.queue, p.limit) as unknown as JobRow[];
      return rows.map(rowToJob).sort(compareClaimOrder);
    });
  }

  jobsComplete(items: readonly CompleteItem[], now: number): Promise<LeaseResult[]> {
    return this.#group.submit(() =>
      this.#each(
        items,
        (it): LeaseResult => {
          const changed = this.#s.complete.run(it.result, now, now, now, it.lease.jobId, it.lease.token).changes;
          return changed === 1 ? { ok: true as const } : this.#leaseMiss(it.lease);
        },
        (it, err) => this.#refused(err, 'result', `complete job ${it.lease.jobId}`),
      ),
    );
  }

  jobsFail(items: readonly FailItem[], now: number): Promise<FailResult[]> {
    return this.#group.submit(() =>
      this.#each(
        items,
        (it): FailResult => {
          const row = this.#s.fail.get(it.unrecoverable ? 1 : 0, it.retryAt, now, it.error, it.lease.jobId, it.lease.token) as
            | { state: JobState; dead_reason: DeadReason | null }
            | undefined;
          return row ? { ok: true as const, state: row.state, deadReason: row.dead_reason } : this.#leaseMiss(it.lease);
        },
        (it, err) => this.#refused(err, 'error', `record the failure of job ${it.lease.jobId}`),
      ),
    );
  }

  jobsExtend(items: readonly ExtendItem[], now: number): Promise<ExtendResult[]> {
    return this.#group.submit(() =>
      this.#each(
        items,
        (it): ExtendResult => {
          const expires = now + it.leaseMs;
          const changed = this.#s.extend.run(expires, now, it.lease.jobId, it.lease.token).changes;
          return changed === 1 ? { ok: true as const, leaseExpiresAt: expires } : this.#leaseMiss(it.lease);
        },
        (it, err) => this.#refused(err, 'leaseMs', `extend the lease of job ${it.lease.jobId}`),
      ),
    );
  }

  jobsReport(items: readonly ReportItem[], now: number, keepLogs: number): Promise<LeaseResult[]> {
    return this.#group.submit(() => {
      checkKeepLogs(keepLogs);
      return this.#each(
        items,
        (it): LeaseResult => {
          const changed = this.#s.report.run(it.progress ?? null, logLinesJson(it), keepLogs, now, it.lease.jobId, it.lease.token).changes;
          return changed === 1 ? { ok: true as const } : this.#leaseMiss(it.lease);
        },
        (it, err) => this.#refused(err, reportField(it), reportDoing(it)),
      );
    });
  }

  jobsRelease(leases: readonly Lease[], now: number): Promise<LeaseResult[]> {
    return this.#group.submit(() =>
      leases.map((lease) => {
        const changed = this.#s.release.run(now, now, lease.jobId, lease.token).changes;
        return changed === 1 ? { ok: true as const } : this.#leaseMiss(lease);
      }),
    );
  }

  jobsCancel(ids: readonly string[], now: number): Promise<CancelResult[]> {
    return this.#group.submit(() =>
      ids.map((id): CancelResult => {
        const cur = this.#s.stateOf.get(id) as { state: JobState; queue: string; token: number } | undefined;
        if (!cur) return { found: false };
        const changed = this.#s.cancel.run(now, now, now, id).changes;
        return { found: true, queue: cur.queue, previous: cur.state, token: cur.token, cancelled: changed === 1 };
      }),
    );
  }

  jobsRetry(ids: readonly string[], now: number): Promise<RetryResult[]> {
    return this.#group.submit(() =>
      ids.map((id): RetryResult => {
        const cur = this.#s.stateOf.get(id) as { state: JobState; queue: string } | undefined;
        if (!cur) return { found: false };
        const changed = this.#s.retry.run(now, now, id).changes;
        return { found: true, queue: cur.queue, previous: cur.state, retried: changed === 1 };
      }),
    );
  }

  jobsDelete(ids: readonly string[], _now: number): Promise<DeleteResult[]> {
    return this.#group.submit(() =>
      ids.map((id): DeleteResult => {
        const cur = this.#s.stateOf.get(id) as { state: JobState; queue: string } | undefined;
        if (!cur) return { found: false };
        const changed = this.#s.deleteJob.run(id).changes;
        return { found: true, queue: cur.queue, previous: cur.state, deleted: changed === 1 };
      }),
    );
  }

  jobsReapExpired(p: { now: number; limit: number }): Promise<ReapedJob[]> {
    return this.#group.submit(() => {
      const rows = this.#s.reap.all(p.now, p.limit) as unknown as { id: string; token: number; queue: string; state: JobState; dead_reason: DeadReason | null }[];
      return rows.map((r) => ({ id: r.id, token: r.token, queue: r.queue, state: r.state, deadReason: r.dead_reason }));
    });
  }

  jobsPromoteDue(p: { now: number; limit: number }): Promise<string[]> {
    return this.#group.submit(() => {
      const rows = this.#s.promoteAll.all(p.now, p.now, p.limit) as unknown as { queue: string }[];
      return [...new Set(rows.map((r) => r.queue))];
    });
  }

  jobsPurge(p: { queue: string; limit: number }): Promise<number> {
    return this.#group.submit(() => Number(this.#s.purge.run(p.queue, p.limit).changes));
  }

  jobsDeleteFinished(p: { before: Record<'completed' | 'dead' | 'cancelled', number>; limit: number }): Promise<number> {
    return this.#group.submit(() => {
      let deleted = 0;
      for (const state of ['completed', 'dead', 'cancelled'] as const) {
        deleted += Number(this.#s.deleteFinished[state].run(p.before[state], p.limit - deleted).changes);
        if (deleted >= p.limit) break;
      }
      return deleted;
    });
  }

  // Reads of jobs (see reads.ts).
  async jobsGet(ids: readonly string[]): Promise<(Job | null)[]> {
    this.#assertOpen();
    return reads.jobsGet(this.#s, ids);
  }

  async jobLogs(id: string): Promise<JobLogLine[] | null> {
    this.#assertOpen();
    return reads.jobLogs(this.#s, id);
  }

  async jobsList(p: ListParams): Promise<Job[]> {
    this.#assertOpen();
    return reads.jobsList(this.#db, this.#s, p);
  }

  async jobsSearch(p: SearchParams): Promise<SearchPage> {
    this.#assertOpen();
    return reads.jobsSearch(this.#s, p);
  }

  async jobsNextDueAt(): Promise<number | null> {
    this.#assertOpen();
    return reads.jobsNextDueAt(this.#s);
  }

  // Queues (see queues.ts).
  async queueStats(queue: string | null, now: number): Promise<QueueStats[]> {
    this.#assertOpen();
    return queues.queueStats(this.#s, queue, now);
  }

  queueUpsert(name: string, config: QueueConfig, now: number): Promise<void> {
    return this.#group.submit(() => {
      this.#s.queueUpsert.run(name, JSON.stringify(config), now, now);
    });
  }

  async queueGet(name: string): Promise<StoredQueue | null> {
    this.#assertOpen();
    return queues.queueGet(this.#s, name);
  }

  async queueList(): Promise<StoredQueue[]> {
    this.#assertOpen();
    return queues.queueList(this.#s);
  }

  queueSetPaused(name: string, paused: boolean, now: number): Promise<void> {
    return this.#group.submit(() => {
      this.#s.queuePause.run(paused ? 1 : 0, now, name);
    });
  }

  queueDelete(p: QueueDeleteParams, _now: number): Promise<QueueDeleteResult> {
    return this.#group.submit((): QueueDeleteResult => queues.queueDelete(this.#s, p));
  }

  // API tokens (see tokens.ts).
  tokensInsert(row: NewTokenRow): Promise<void> { return this.#tokens.insert(row); }
  tokensList(): Promise<TokenInfo[]> { return this.#guard(() => this.#tokens.list()); }
  tokensDelete(ids: readonly string[]): Promise<number> { return this.#tokens.delete(ids); }
  tokenGet(id: string): Promise<TokenRow | null> { return this.#guard(() => this.#tokens.get(id)); }
  tokensExist(): Promise<boolean> { return this.#guard(() => this.#tokens.exist()); }
  tokensEnabled(): Promise<boolean> { return this.#guard(() => this.#tokens.enabled()); }
  tokensMarkUsed(uses: readonly TokenUse[]): Promise<void> { return this.#tokens.markUsed(uses); }

  /** Reads run on this thread, outside the group commit: after close they are refused as writes are. */
  #assertOpen(): void {
    if (!this.#db.isOpen) throw new ClosedError('store');
  }

  async #guard<T>(read: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    return read();
  }

  async close(): Promise<void> {
    if (!this.#db.isOpen) return;
    this.#group.close();
    this.#db.close();
  }

  /** Why a lease-bearing operation matched no row: the job's state and token now. */
  #leaseMiss(lease: Lease): LeaseMiss {
    const cur = this.#s.leaseOf.get(lease.jobId) as { state: JobState; token: number } | undefined;
    return { ok: false, state: cur?.state ?? null, token: cur?.token ?? null };
  }

  /** An item whose statement SQLite refused: the job is unchanged (its lease still held), and the error says why. */
  #refused(err: unknown, field: string, doing: string): LeaseMiss {
    return { ok: false, state: null, token: null, error: refusedItemError(err, field, doing) };
  }

  /**
   * Applies independent items one statement each, inside the group's transaction. SQLite undoes a
   * failed statement alone and the transaction goes on, so only that item is `refused` and its
   * neighbours apply; a failure that ended the transaction (disk full, I/O) fails the call as a whole.
   */
  #each<I, R>(items: readonly I[], apply: (item: I) => R, refused: (item: I, err: unknown) => R): R[] {
    const out: R[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      try {
        out[i] = apply(item);
      } catch (err) {
        if (!this.#db.isTransaction) throw err;
        out[i] = refused(item, err);
      }
    }
    return out;
  }
}

const STORED: ItemOutcome = Object.freeze({ ok: true as const });
