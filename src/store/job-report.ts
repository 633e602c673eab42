import { InvalidArgumentError } from '../core/errors.ts';
import type { ReportItem } from './store.ts';

/**
 * What both drivers do alike with Store.jobsReport's input, before their SQL: check the number
 * of lines kept, and put an item's lines into the JSON array text their statement appends.
 */

/** `keepLogs` as the statements need it: a whole number from 0 up (SQLite reads a negative LIMIT as "no limit"). */
export function checkKeepLogs(keepLogs: number): void {
  if (!Number.isSafeInteger(keepLogs) || keepLogs < 0) {
    throw new InvalidArgumentError('keepLogs', `keepLogs must be a whole number of at least 0 (got ${String(keepLogs)})`);
  }
}

/**
 * The item's lines as a JSON array of `{at, attempt, line}` (only those keys, so nothing else
 * ends up in the stored log), or null when it has none.
 */
export function logLinesJson(item: ReportItem): string | null {
  if (item.logs === undefined || item.logs.length === 0) return null;
  return JSON.stringify(item.logs.map((l) => ({ at: l.at, attempt: l.attempt, line: l.line })));
}

/** The input a refusal of the item is about, for its InvalidArgumentError: what it carries. */
export function reportField(item: ReportItem): string {
  const lines = item.logs !== undefined && item.logs.length > 0;
  if (item.progress === undefined) return 'logs';
  return lines ? 'progress or logs' : 'progress';
}

/** What a refused item was doing, for its error message. */
export const reportDoing = (item: ReportItem): string => `report the progress or log lines of job ${item.lease.jobId}`;
