import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SchemaTooNewError, StoreUnavailableError } from '../../core/errors.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations.ts';
import { translateSqliteError } from './sqlite-errors.ts';
import type { SqliteDurability } from './sqlite-store.ts';

const SQLITE_NOTADB = 26;

/** Claims one open may give a job before its tokens could reach the next open's base (see takeLeaseEpoch). */
export const LEASE_EPOCH_SPAN = 2 ** 24;

/**
 * Opens the database file at `location` (made absolute by the caller; its directory is created
 * unless in memory), sets its pragmas (WAL, busy timeout, synchronous, size cap), migrates it,
 * and takes this open's lease epoch: `tokenBase`, below every token its claims give.
 */
export function openDatabase(location: string, o: { memory: boolean; durability: SqliteDurability; busyTimeoutMs: number; maxDatabaseBytes: number | undefined }): { db: DatabaseSync; tokenBase: number } {
  if (!o.memory) mkdirSync(dirname(location), { recursive: true });
  let db: DatabaseSync;
  let tokenBase: number;
  try {
    db = new DatabaseSync(location);
  } catch (err) {
    throw translateSqliteError(err, `open ${location}`);
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${o.busyTimeoutMs}`);
    if (!o.memory) {
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
      if (mode.journal_mode !== 'wal') throw new StoreUnavailableError(`cannot switch ${location} to WAL mode (got ${mode.journal_mode})`);
    }
    db.exec(`PRAGMA synchronous = ${o.durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
    migrate(db, location);
    tokenBase = takeLeaseEpoch(db);
    if (o.maxDatabaseBytes !== undefined) {
      const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
      db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(o.maxDatabaseBytes / pageSize))}`);
    }
  } catch (err) {
    db.close();
    if ((err as { errcode?: number }).errcode === SQLITE_NOTADB) {
      throw new StoreUnavailableError(`${location} is not a Spool database (not a SQLite file); point Spool at another path`, { cause: err });
    }
    throw translateSqliteError(err, `open ${location}`);
  }
  return { db, tokenBase };
}

/**
 * Claims commit without a sync of their own (group-commit.ts): an OS crash or power loss can undo
 * the last of them, and a job whose claim was undone would be claimed again with the same token
 * while the worker that got the first one may still hold it (a remote worker outlives its
 * broker's machine), so its ack would pass for the new lease's. Each open therefore takes the
 * next epoch, synced before its first claim (the pragma is still FULL here when durability is
 * fsync), and its claims give tokens above epoch × LEASE_EPOCH_SPAN: above any token an earlier
 * open gave, whether its commit survived or not. A file's first open has epoch 0, so its tokens
 * count from 1. Returns the base.
 */
function takeLeaseEpoch(db: DatabaseSync): number {
  const row = db.prepare('UPDATE lease_epoch SET opens = opens + 1 WHERE id = 1 RETURNING opens').get() as { opens: number };
  return (Number(row.opens) - 1) * LEASE_EPOCH_SPAN;
}

/** Brings the schema of `db` (at `where`) up to the latest version under the write lock; refuses a newer one. */
function migrate(db: DatabaseSync, where: string): void {
  const version = () => (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (version() > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(where, version(), LATEST_SCHEMA_VERSION);
  if (version() === LATEST_SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    const current = version(); // read again under the write lock: another process may have migrated meanwhile
    if (current > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(where, current, LATEST_SCHEMA_VERSION);
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
    }
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
