import { InvalidArgumentError } from '../../core/errors.ts';
import { checkLimit, describe } from '../../core/limits.ts';
import { checkOptionKeys, checkOptionType } from '../../core/options.ts';
import { describePgTarget } from './pg-errors.ts';
import { canParsePgUrl, parsePgUrl } from './pg-url.ts';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * postgres:// URL. Several hosts for failover, as libpq writes them:
   * `postgres://user:pw@host1:5432,host2:5432/db?target_session_attrs=read-write` (see docs/operations.md).
   */
  url: string;
  /** Schema holding Spool's tables (created if missing). Default `spool`. */
  schema?: string;
  /** Connections in this process's pool: 1–1000, default 10 (limit `poolSize`). */
  poolSize?: number;
  /**
   * Use LISTEN/NOTIFY to wake consumers in other processes at once. Turn off behind
   * a transaction-mode pooler (PgBouncer), where LISTEN does not work; consumers then poll.
   */
  notify?: boolean;
  historyMax?: number;
  /** Run migrations on open (default true). With false, a database behind the latest schema is refused. */
  migrate?: boolean;
  /** Longest one operator read may run (limit `readTimeoutMs`, default 10 s). */
  readTimeoutMs?: number;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Every key of {@link PostgresStoreOptions}; others are refused. */
const PG_OPTIONS: Record<keyof PostgresStoreOptions, true> = { url: true, schema: true, poolSize: true, notify: true, historyMax: true, migrate: true, readTimeoutMs: true };
export const PG_OPTION_KEYS: readonly (keyof PostgresStoreOptions)[] = Object.keys(PG_OPTIONS) as (keyof PostgresStoreOptions)[];

/** Checks the options of openPostgresStore (in this order), and gives the schema, limits and display location they set. */
export function checkPgOptions(options: PostgresStoreOptions): { schema: string; poolSize: number; historyMax: number; readTimeoutMs: number; location: string } {
  checkOptionKeys(options, PG_OPTION_KEYS, 'openPostgresStore');
  if (options === undefined || typeof options.url !== 'string' || !/^postgres(ql)?:\/\//.test(options.url) || (!canParsePgUrl(options.url) && !/^target_session_attrs/.test(parsePgUrl(options.url) as string))) {
    throw new InvalidArgumentError('url', `openPostgresStore needs a url like postgres://user:password@host:5432/database (got ${typeof options?.url === 'string' ? 'a string that is not a URL' : describe(options?.url)})`);
  }
  checkOptionType(options.notify, 'notify', 'boolean');
  checkOptionType(options.migrate, 'migrate', 'boolean');
  const poolSize = checkLimit('poolSize', options.poolSize);
  const schema = options.schema ?? 'spool';
  if (!SCHEMA_RE.test(schema)) throw new InvalidArgumentError('schema', `schema must be a lowercase SQL identifier (got ${JSON.stringify(schema)})`);
  const parsed = parsePgUrl(options.url);
  if (typeof parsed === 'string') throw new InvalidArgumentError('url', `openPostgresStore cannot use this url: ${parsed}`);
  const historyMax = checkLimit('historyMax', options.historyMax);
  const readTimeoutMs = checkLimit('readTimeoutMs', options.readTimeoutMs);
  const { location } = describePgTarget({ url: options.url, schema });
  return { schema, poolSize, historyMax, readTimeoutMs, location };
}
