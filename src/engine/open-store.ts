import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { openPostgresStore } from '../store/postgres/postgres-store.ts';
import { SqliteStore, type SqliteDurability } from '../store/sqlite/sqlite-store.ts';

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
}

/**
 * Opens the store a spec names:
 * - `memory`: a private in-memory SQLite database with the production engine (for tests);
 * - `sqlite:<path>` or a path ending in `.db`/`.sqlite`: that SQLite file;
 * - `postgres://…`: a PostgreSQL database shared by many processes;
 * - any other path: a data directory holding `spool.db`.
 */
export async function openStore(spec: string = DEFAULT_DATA_DIR, options: StoreSpecOptions = {}): Promise<Store> {
  if (typeof spec !== 'string' || spec.length === 0) throw new InvalidArgumentError('store', 'store must be a non-empty string or a Store');
  const common = { durability: options.durability, busyTimeoutMs: options.busyTimeoutMs, historyMax: options.historyMax };
  if (spec === 'memory' || spec === ':memory:') return new SqliteStore({ ...common, path: ':memory:' });
  if (/^(postgres|postgresql):\/\//.test(spec)) {
    return openPostgresStore({ url: spec, schema: options.schema, historyMax: options.historyMax, notify: options.notify });
  }
  const file = sqliteFileOf(spec)!;
  return new SqliteStore({ ...common, path: file });
}

/** The SQLite file a store spec names (absolute), or null when it names none (`memory`, a PostgreSQL URL). */
export function sqliteFileOf(spec: string): string | null {
  if (spec === 'memory' || spec === ':memory:' || /^(postgres|postgresql):\/\//.test(spec)) return null;
  if (spec.startsWith('sqlite:')) return resolve(spec.slice('sqlite:'.length));
  if (/\.(db|sqlite|sqlite3)$/.test(spec)) return resolve(spec);
  return resolve(join(spec, SQLITE_FILE_NAME));
}
