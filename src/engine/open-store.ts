import { join, resolve } from 'node:path';
import { InvalidArgumentError, StoreUnavailableError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { openPostgresStore } from '../store/postgres/postgres-store.ts';
import { canParsePgUrl, parsePgUrl } from '../store/postgres/pg-url.ts';
import { SqliteStore, type SqliteDurability } from '../store/sqlite/sqlite-store.ts';
import { ClockSync } from './clock-sync.ts';
import type { OpenOptions } from './options.ts';

/** The default data directory of the embedded store, relative to the working directory. */
export const DEFAULT_DATA_DIR = './spool-data';
export const SQLITE_FILE_NAME = 'spool.db';

export interface StoreSpecOptions {
  durability?: SqliteDurability | undefined;
  busyTimeoutMs?: number | undefined;
  historyMax?: number | undefined;
  /** PostgreSQL: the schema holding Spool's tables (default `spool`). */
  schema?: string | undefined;
  /** PostgreSQL: use LISTEN/NOTIFY (default true); false behind transaction-mode poolers. */
  notify?: boolean | undefined;
  /** PostgreSQL: longest one operator read may run (limit `readTimeoutMs`). */
  readTimeoutMs?: number | undefined;
}

const POSTGRES_URL_RE = /^postgres(ql)?:\/\//;
/** Looks like a URL (`scheme://…`): never taken for a path, so `mysql://…` is not a directory name. */
const URL_LIKE_RE = /^([a-z][a-z0-9+.-]*):\/\//i;

/** Whether a store spec names a PostgreSQL database. */
export function isPostgresSpec(spec: string): boolean {
  return POSTGRES_URL_RE.test(spec);
}

/**
 * Refuses a store spec that is meant as a URL but is not one Spool can use: a postgres URL
 * that does not parse (`postgres:/host`, `POSTGRES://…`, a bad port), or a URL of another
 * scheme. Such a spec would otherwise be taken for a directory name. A password in it is
 * never printed.
 * @throws StoreUnavailableError saying what a store spec looks like.
 */
export function checkStoreSpec(spec: string): void {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(spec)?.[0] ?? '';
  const pgScheme = /^postgres(ql)?:$/i.test(scheme);
  const unusable = pgScheme && isPostgresSpec(spec) ? parsePgUrl(spec) : null;
  if (typeof unusable === 'string' && unusable.startsWith('target_session_attrs')) {
    throw new StoreUnavailableError(`the store URL cannot be used (${redactUrl(spec)}): ${unusable}`);
  }
  if (pgScheme && !(isPostgresSpec(spec) && canParsePgUrl(spec))) {
    throw new StoreUnavailableError(
      `the store is not a valid PostgreSQL URL (${redactUrl(spec)}); write it as postgres://user:password@host:5432/database, ` +
        'with the scheme in lowercase and any special character of the password percent-encoded (@ as %40, / as %2F)',
    );
  }
  if (!pgScheme && isForeignUrl(spec)) {
    throw new StoreUnavailableError(
      `the store URL scheme ${JSON.stringify(scheme)} is not one Spool knows; a store is postgres://user:password@host:5432/database, ` +
        'a data directory, a .db file, sqlite:<path> or memory',
    );
  }
}

/** A `scheme://` spec that is neither PostgreSQL nor `sqlite:` (whose `sqlite:///abs/path` form is a path). */
function isForeignUrl(spec: string): boolean {
  return URL_LIKE_RE.test(spec) && !/^(postgres(ql)?|sqlite):/i.test(spec);
}

/** A URL-like text with the password (between `user:` and `@`) replaced by `***`, for messages. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/*[^:/@]*:).*@/i, '$1***@');
}

/**
 * Opens the store a spec names:
 * - `memory`: a private in-memory SQLite database with the production engine (for tests);
 * - `sqlite:<path>` or a path ending in `.db`/`.sqlite`: that SQLite file;
 * - `postgres://…`: a PostgreSQL database shared by many processes;
 * - any other path: a data directory holding `spool.db`.
 * @throws StoreUnavailableError for a spec that is a URL Spool cannot use (see checkStoreSpec),
 * or a database that cannot be reached, refuses the login, or does not exist.
 */
export async function openStore(spec: string = DEFAULT_DATA_DIR, options: StoreSpecOptions = {}): Promise<Store> {
  if (typeof spec !== 'string' || spec.length === 0) throw new InvalidArgumentError('store', 'store must be a non-empty string or a Store');
  checkStoreSpec(spec);
  const common = { durability: options.durability, busyTimeoutMs: options.busyTimeoutMs, historyMax: options.historyMax };
  if (spec === 'memory' || spec === ':memory:') return new SqliteStore({ ...common, path: ':memory:' });
  if (isPostgresSpec(spec)) {
    return openPostgresStore({ url: spec, schema: options.schema, historyMax: options.historyMax, notify: options.notify, readTimeoutMs: options.readTimeoutMs });
  }
  const file = sqliteFileOf(spec)!;
  return new SqliteStore({ ...common, path: file });
}

/** The SQLite file a store spec names (absolute), or null when it names none (`memory`, a PostgreSQL URL). */
export function sqliteFileOf(spec: string): string | null {
  if (spec === 'memory' || spec === ':memory:' || isPostgresSpec(spec) || isForeignUrl(spec)) return null;
  if (spec.startsWith('sqlite:')) return resolve(spec.slice('sqlite:'.length));
  if (/\.(db|sqlite|sqlite3)$/.test(spec)) return resolve(spec);
  return resolve(join(spec, SQLITE_FILE_NAME));
}

/**
 * The store `Spool.open` runs on (the one given, or the one its spec names, opened) and, unless
 * the caller gave a clock, what keeps this process's time on the store's (null without one). A
 * store opened here is closed again when the clock cannot start.
 */
export async function openEngineStore(options: OpenOptions): Promise<{ store: Store; clockSync: ClockSync | null }> {
  const store =
    typeof options.store === 'object' && options.store !== null
      ? options.store
      : await openStore(options.store, {
          durability: options.durability, busyTimeoutMs: options.busyTimeoutMs, historyMax: options.historyMax, schema: options.schema, notify: options.notify,
          readTimeoutMs: options.readTimeoutMs,
        });
  try {
    return { store, clockSync: options.clock === undefined ? await ClockSync.start(store) : null };
  } catch (err) {
    if (store !== options.store) await store.close().catch(() => {});
    throw err;
  }
}
