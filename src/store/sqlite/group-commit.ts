import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ClosedError } from '../../core/errors.ts';
import type { CountLedger } from './count-ledger.ts';
import { translateSqliteError } from './sqlite-errors.ts';

interface PendingOp {
  run: () => unknown;
  /** Whether the caller is told "done" only once the write is synced (every write but a claim). */
  durable: boolean;
  resolve: (value: any) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: every write submitted during one turn of the event loop runs
 * in a single transaction with a single sync. Each operation runs inside its
 * own savepoint, so one failing operation is rolled back alone and the others
 * still commit; if the commit itself fails (disk full, I/O error), every
 * operation in the group is rejected and nothing from it is kept.
 *
 * node:sqlite is synchronous, so while a group runs nothing else does; the
 * gain is that N concurrent callers pay for one transaction and one fsync.
 *
 * A group of claims alone commits without a sync (synchronous NORMAL for that
 * commit: the WAL is written, not synced). The next synced commit syncs the
 * WAL, those frames included; until then an OS crash or power loss may undo
 * the claims, which only puts their jobs back to ready, and the lease epoch
 * (open.ts) keeps their tokens from being issued again.
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  /** The job counts the group's writes noted, written just before it commits (see count-ledger.ts). */
  readonly #counts: CountLedger | null;
  #pending: PendingOp[] = [];
  #scheduled = false;
  #closed = false;
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  readonly #savepoint: StatementSync;
  readonly #releaseSavepoint: StatementSync;
  readonly #rollbackSavepoint: StatementSync;
  /** Whether commits sync at all (durability fsync on a file): then only groups with a durable write do. */
  readonly #syncs: boolean;
  /** The synchronous setting the connection has now (FULL when the store syncs: openDatabase sets it). */
  #syncing: boolean;
  /** Groups committed so far (for tests and metrics). */
  commits = 0;
  /** Of those, the groups of claims alone, committed without a sync. */
  unsyncedCommits = 0;

  constructor(db: DatabaseSync, counts: CountLedger | null = null, syncs = false) {
    this.#db = db;
    this.#counts = counts;
    this.#syncs = syncs;
    this.#syncing = syncs;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#savepoint = db.prepare('SAVEPOINT op');
    this.#releaseSavepoint = db.prepare('RELEASE op');
    this.#rollbackSavepoint = db.prepare('ROLLBACK TO op');
  }

  /**
   * Runs `run` inside the next group's transaction; resolves once that transaction is durable, or,
   * when `durable` is false (a claim), once it is committed.
   */
  submit<T>(run: () => T, durable = true): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError('store'));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ run, durable, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Runs what is pending now, then refuses new work. */
  close(): void {
    this.#flush();
    this.#closed = true;
  }

  #flush(): void {
    this.#scheduled = false;
    const ops = this.#pending;
    if (ops.length === 0) return;
    this.#pending = [];
    try {
      if (this.#syncs) this.#syncFor(ops);
      this.#begin.run();
    } catch (err) {
      const error = translateSqliteError(err, 'start a write transaction');
      for (const op of ops) op.reject(error);
      return;
    }
    const results: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = new Array(ops.length);
    try {
      for (let i = 0; i < ops.length; i++) {
        this.#savepoint.run();
        try {
          results[i] = { ok: true, value: ops[i]!.run() };
          this.#releaseSavepoint.run();
          this.#counts?.opKept();
        } catch (err) {
          this.#counts?.opDropped();
          // Some errors (disk full, I/O) make SQLite roll back the whole transaction: then the group fails as one.
          if (!this.#db.isTransaction) throw err;
          this.#rollbackSavepoint.run();
          this.#releaseSavepoint.run();
          results[i] = { ok: false, error: translateSqliteError(err, 'write') };
        }
      }
      this.#counts?.write();
      this.#commit.run();
      this.commits++;
      if (this.#syncs && !this.#syncing) this.unsyncedCommits++;
    } catch (err) {
      this.#counts?.groupDropped();
      // The transaction as a whole failed: nothing of this group is kept.
      try {
        if (this.#db.isTransaction) this.#rollback.run();
      } catch {
        // The rollback failing too leaves SQLite to roll back from its journal on next open.
      }
      const error = translateSqliteError(err, 'commit');
      for (const op of ops) op.reject(error);
      return;
    }
    for (let i = 0; i < ops.length; i++) {
      const r = results[i]!;
      if (r.ok) ops[i]!.resolve(r.value);
      else ops[i]!.reject(r.error);
    }
  }

  /** Sets the connection to sync the coming commit when a write of `ops` is durable, and not when all are claims. */
  #syncFor(ops: readonly PendingOp[]): void {
    const sync = ops.some((op) => op.durable);
    if (sync === this.#syncing) return;
    // exec, not a prepared statement: SQLite applies this pragma when it compiles it, not when it runs.
    this.#db.exec(sync ? 'PRAGMA synchronous = FULL' : 'PRAGMA synchronous = NORMAL');
    this.#syncing = sync;
  }
}
