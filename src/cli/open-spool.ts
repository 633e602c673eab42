import { existsSync } from 'node:fs';
import { StoreUnavailableError } from '../core/errors.ts';
import { DEFAULT_DATA_DIR, sqliteFileOf } from '../engine/open-store.ts';
import { Spool, type OpenOptions } from '../engine/spool.ts';

/** The store spec in effect: `--store`, else the `SPOOL_STORE` environment variable, else `./spool-data`. */
export function storeSpec(flag: string | undefined): string {
  return flag ?? (process.env.SPOOL_STORE || DEFAULT_DATA_DIR);
}

export interface CliOpenOptions {
  /** Run reaping, promotion and cleanup in this process: only long-running commands do. */
  maintenance: boolean;
  /**
   * Create the store if it does not exist. Commands that only read or change
   * existing jobs say no, so a mistyped `--store` is an error instead of a new, empty store.
   */
  create: boolean;
}

/**
 * Opens a Spool for a command.
 * @throws StoreUnavailableError when `create` is false and there is no store at `spec`.
 * @example
 * const spool = await openSpool(ctx.store, { maintenance: false, create: false });
 * try { ... } finally { await spool.close(); }
 */
export async function openSpool(spec: string, options: CliOpenOptions, settings: Partial<OpenOptions> = {}): Promise<Spool> {
  if (!options.create) {
    const file = sqliteFileOf(spec);
    if (file !== null && !existsSync(file)) {
      throw new StoreUnavailableError(`no Spool store at ${file}; check --store (or SPOOL_STORE), or create one with spool add or spool serve`);
    }
  }
  return Spool.open({ ...settings, store: spec, maintenance: options.maintenance, ...pgSchema() });
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
export async function withSpool<T>(spec: string, create: boolean, fn: (spool: Spool) => Promise<T>): Promise<T> {
  const spool = await openSpool(spec, { maintenance: false, create });
  try {
    return await fn(spool);
  } finally {
    await spool.close();
  }
}
