import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ClosedError } from '../../core/errors.ts';
import type { CountLedger } from './count-ledger.ts';
import { translateSqliteError } from './sqlite-errors.ts';
import type { WalSyncer } from './wal-sync.ts';

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
 * gain is that N concurrent callers pay for one transaction.
 *
 * With a syncer (durability fsync on a file), the connection commits with
 * synchronous NORMAL — the WAL written, not synced — and the group's durable
 * writes are answered once the syncer has synced the WAL past their commit
 * (wal-sync.ts), an fsync on libuv's thread pool while the event loop goes on.
 * A claim is answered at its commit: an OS crash or power loss may undo it,
 * which only puts its jobs back to ready, and the lease epoch (open.ts) keeps
 * its tokens from being issued again. Other connections may read a commit
 * before it is synced; nobody is told it is durable until it is.
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
  /** Syncs the WAL after a commit with durable writes; null when SQLite's own setting is all (no-fsync, memory). */
  readonly #syncer: WalSyncer | null;
  /** The sync the last group with durable writes waits for, until it ends (null: every durable commit is synced). */
  #syncing: Promise<void> | null = null;
  /** Groups committed so far (for tests and metrics). */
  commits = 0;

  constructor(db: DatabaseSync, counts: CountLedger | null = null, syncer: WalSyncer | null = null) {
    this.#db = db;
    this.#counts = counts;
    this.#syncer = syncer;
    // Commits write the WAL; the syncer makes them durable off the event loop.
    if (syncer) db.exec('PRAGMA synchronous = NORMAL');
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

  /** While a durable write is committed but not yet synced: the sync that ends that state (it covers every earlier commit too). */
  syncing(): Promise<void> | null {
    return this.#syncing;
  }

  /** Runs what is pending now, refuses new work, and resolves once every write it answers is synced. */
  async close(): Promise<void> {
    this.#flush();
    this.#closed = true;
    await this.#syncer?.close();
  }

  #flush(): void {
    this.#scheduled = false;
    const ops = this.#pending;
    if (ops.length === 0) return;
    this.#pending = [];
    try {
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
    const synced = this.#syncer && ops.some((op) => op.durable) ? this.#syncer.sync() : null;
    if (synced) {
      this.#syncing = synced;
      const settled = () => {
        if (this.#syncing === synced) this.#syncing = null;
      };
      synced.then(settled, settled);
    }
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const r = results[i]!;
      if (!r.ok) op.reject(r.error);
      else if (synced && op.durable) synced.then(() => op.resolve(r.value), op.reject);
      else op.resolve(r.value);
    }
  }
}
