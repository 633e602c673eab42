import { leaseKey, type Lease } from '../../core/job.ts';
import { logLinesJson } from '../job-report.ts';
import type { ReportItem } from '../store.ts';

/**
 * The items of one jobsReport call that carry the same lease, merged into one: its lines in
 * the order given, the last progress given. The report statement updates each row once (an
 * UPDATE … FROM applies one input row per job), so two items of one lease would otherwise keep
 * only one's lines. `of[i]` is the merged item that item `i` went into: its result is theirs.
 */
export function mergeReports(items: readonly ReportItem[]): { merged: ReportItem[]; of: number[] } {
  const at = new Map<string, number>();
  const merged: ReportItem[] = [];
  const of = items.map((item) => {
    const key = leaseKey(item.lease);
    const m = at.get(key);
    if (m === undefined) {
      at.set(key, merged.length);
      merged.push(item);
      return merged.length - 1;
    }
    const prev = merged[m]!;
    merged[m] = {
      lease: prev.lease,
      ...(item.progress !== undefined ? { progress: item.progress } : prev.progress !== undefined ? { progress: prev.progress } : {}),
      logs: [...(prev.logs ?? []), ...(item.logs ?? [])],
    };
    return m;
  });
  return { merged, of };
}

/** The parameters of the report statement for `batch`: ids, tokens, progress texts, line arrays, now, lines kept. */
export function reportParams(batch: readonly ReportItem[], now: number, keepLogs: number): unknown[] {
  return [batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => i.progress ?? null), batch.map(logLinesJson), now, keepLogs];
}

/** The leases the report statement changed (it returns id and token), keyed as leaseKey keys them. */
export function reportedLeases(rows: readonly Record<string, unknown>[]): Map<string, true> {
  return new Map(rows.map((r) => [leaseKey({ jobId: r.id as string, token: r.token as number } satisfies Lease), true as const]));
}
