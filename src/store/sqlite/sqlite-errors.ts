import { InvalidArgumentError, SpoolError, StoreUnavailableError } from '../../core/errors.ts';

// Primary result codes (the low byte of extended codes), from sqlite3.h.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_NOMEM = 7;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;

/** Turns a node:sqlite error into a SpoolError whose message says what to do. Other errors pass through. */
export function translateSqliteError(err: unknown, doing: string): unknown {
  if (err instanceof SpoolError) return err;
  const e = err as { errcode?: number; errstr?: string; message?: string };
  if (typeof e?.errcode !== 'number') return err;
  const code = e.errcode & 0xff;
  const detail = e.errstr ?? e.message ?? 'unknown error';
  const tail = 'Nothing from this call was written.';
  switch (code) {
    case SQLITE_FULL:
      return new StoreUnavailableError(`cannot ${doing}: the disk (or the database size limit) is full (${detail}). Free space and retry. ${tail}`, { cause: err });
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return new StoreUnavailableError(`cannot ${doing}: another process held the database lock longer than busyTimeoutMs (${detail}). Retry, or raise busyTimeoutMs. ${tail}`, { cause: err });
    case SQLITE_IOERR:
      return new StoreUnavailableError(`cannot ${doing}: I/O error from the disk (${detail}). Check the disk and its free space. ${tail}`, { cause: err });
    case SQLITE_READONLY:
      return new StoreUnavailableError(`cannot ${doing}: the database is read-only (${detail}). Check file permissions. ${tail}`, { cause: err });
    case SQLITE_NOMEM:
      return new StoreUnavailableError(`cannot ${doing}: out of memory (${detail}). ${tail}`, { cause: err });
    case SQLITE_CORRUPT:
      return new StoreUnavailableError(`cannot ${doing}: the database file is corrupt (${detail}). Restore from a backup. ${tail}`, { cause: err });
    case SQLITE_CANTOPEN:
      return new StoreUnavailableError(`cannot ${doing}: the database file cannot be opened (${detail}). Check that the directory exists and is writable.`, { cause: err });
    default:
      return err;
  }
}

/**
 * The error of one item SQLite refused while its neighbours went on (see SqliteStore's batched
 * calls): a SpoolError as translateSqliteError gives, else INVALID_ARGUMENT on `field`.
 */
export function refusedItemError(err: unknown, field: string, doing: string): Error {
  const translated = translateSqliteError(err, doing);
  if (translated instanceof SpoolError) return translated;
  const e = err as { errstr?: string; message?: string };
  return new InvalidArgumentError(field, `cannot ${doing}: SQLite refused it (${e?.errstr ?? e?.message ?? String(err)}); nothing of it was written`, { cause: err });
}
