/**
 * What both drivers share of a payload search (Store.jobsSearch): where a call's scan stopped,
 * and the forms a payload match takes in their SQL.
 */
import type { Job } from '../core/job.ts';
import type { PayloadMatch, SearchPage } from './store.ts';

/** The highest job id text: the `to` of a range with no upper end. */
export const ID_MAX = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
/** The lowest: the `after` of a list with no cursor, where the store needs a uuid. */
export const NIL_ID = '00000000-0000-0000-0000-000000000000';

/**
 * A search's page from its matches and its scan: when `limit` matched, the scan stopped at the
 * last match; else, when it read its whole bound, at the last job it read; else the range is done.
 */
export function searchPage(jobs: Job[], limit: number, scanned: number, scanLast: string | null, scanMax: number): SearchPage {
  if (jobs.length >= limit) return { jobs, next: jobs.at(-1)!.id };
  return { jobs, next: scanned >= scanMax ? scanLast : null };
}

/** The SQLite JSON path of a payload field: each key quoted (they hold only [A-Za-z0-9_-]), so `0` is a key, never an index. */
export const sqliteJsonPath = (m: PayloadMatch): string => '$' + m.path.map((k) => `."${k}"`).join('');

/** The kind of the value, as SQLite's json_type names it (integers and reals both `number`). */
export function sqliteKind(m: PayloadMatch): string {
  if (m.equals === null) return 'null';
  if (typeof m.equals === 'boolean') return String(m.equals);
  return typeof m.equals === 'number' ? 'number' : 'text';
}

/** The value SQLite compares with json_extract (strings and numbers; NULL for the kinds the kind alone decides). */
export const sqliteValue = (m: PayloadMatch): string | number | null => (typeof m.equals === 'string' || typeof m.equals === 'number' ? m.equals : null);
