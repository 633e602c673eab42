import { existsSync } from 'node:fs';
import { StoreUnavailableError } from '../core/errors.ts';
import { checkStoreSpec, DEFAULT_DATA_DIR, isPostgresSpec, sqliteFileOf } from '../engine/open-store.ts';
import { Spool, type OpenOptions } from '../engine/spool.ts';
import { pgSchemaExists } from '../store/postgres/pg-client.ts';
import { describePgTarget, pgOpenError } from '../store/postgres/pg-errors.ts';

/** The store spec in effect: `--store`, else the `SPOOL_STORE` environment variable, else `./spool-data`. */
export function storeSpec(flag: string | undefined): string {
  return flag ?? (process.env.SPOOL_STORE || DEFAULT_DATA_DIR);
}

export interface CliOpenOptions {
  /** Run reaping, promotion and cleanup in this process: only long-running commands do. */
  maintenance: boolean;
  /**
   * Create the store if it does not exist (a SQLite file, a PostgreSQL schema). Commands that
   * only read or change existing jobs or tokens say no, so a mistyped `--store` or `--schema`
   * is an error instead of a new, empty store.
   */
  create: boolean;
  /** With `create` false: how the message for a missing store ends (default: how to create one). */
  missingHint?: string;
}

/** The default ending of the message for a missing store. */
const CREATE_HINT = 'or create one with spool add or spool serve';
/** A PostgreSQL schema name as the store accepts it; any other is left to Spool.open to refuse, naming the rule. */
const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens a Spool for a command.
 * @throws StoreUnavailableError when `create` is false and there is no store at `spec` (no SQLite
 * file; no Spool schema in the PostgreSQL database), for a spec that is a URL Spool cannot use, and
 * when the database cannot be reached, refuses the login or does not exist: one line, no stack.
 * @example
 * const spool = await openSpool(ctx.store, { maintenance: false, create: false });
 * try { ... } finally { await spool.close(); }
 */
export async function openSpool(spec: string, options: CliOpenOptions, settings: Partial<OpenOptions> = {}): Promise<Spool> {
  checkStoreSpec(spec);
  const { schema } = pgSchema();
  if (!options.create) {
    const hint = options.missingHint ?? CREATE_HINT;
    const file = sqliteFileOf(spec);
    if (file !== null && !existsSync(file)) {
      throw new StoreUnavailableError(`no Spool store at ${file}; check --store (or SPOOL_STORE), ${hint}`);
    }
    if (isPostgresSpec(spec)) await requirePgSchema(spec, schema ?? 'spool');
  }
  return Spool.open({ ...settings, store: spec, maintenance: options.maintenance, ...(schema ? { schema } : {}) });
}

/**
 * Refuses a PostgreSQL database without a Spool schema of that name, without creating it.
 * @throws StoreUnavailableError naming the schema and the database, and saying what to do.
 */
async function requirePgSchema(url: string, schema: string): Promise<void> {
  if (!SCHEMA_RE.test(schema)) return; // Spool.open refuses it before it connects
  let found: boolean;
  try {
    found = await pgSchemaExists(url, schema);
  } catch (err) {
    throw pgOpenError(err, { url, schema });
  }
  if (!found) {
    const { database, at } = describePgTarget({ url, schema });
    throw new StoreUnavailableError(
      `no Spool schema named "${schema}" in database "${database}" on ${at}; check --schema (or SPOOL_SCHEMA), or run spool migrate to create it`,
    );
  }
}

/** The PostgreSQL schema from --schema or SPOOL_SCHEMA, if any. */
export function pgSchema(): { schema?: string } {
  const schema = process.env.SPOOL_SCHEMA;
  return schema ? { schema } : {};
}

/**
 * Runs `fn` on a Spool opened for a short-lived command (no maintenance) and closes it,
 * whether `fn` succeeds or throws.
 */
export async function withSpool<T>(spec: string, create: boolean, fn: (spool: Spool) => Promise<T>, missingHint?: string): Promise<T> {
  const spool = await openSpool(spec, { maintenance: false, create, ...(missingHint === undefined ? {} : { missingHint }) });
  try {
    return await fn(spool);
  } finally {
    await spool.close();
  }
}
