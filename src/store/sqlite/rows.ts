import type { Job } from '../../core/job.ts';
import { rowToJob as mapRow, type JobRow as AnyJobRow } from '../job-row.ts';

/** A `jobs` row as SQLite returns it: JSON columns as text. */
export type JobRow = AnyJobRow<string>;

export function rowToJob(row: JobRow): Job {
  return mapRow(row, (text) => JSON.parse(text));
}
