import type { DatabaseSync } from 'node:sqlite';
import { ClosedError } from '../../core/errors.ts';
import type { Job, JobLogLine } from '../../core/job.ts';
import type { ListParams, SearchPage, SearchParams } from '../store.ts';
import { ID_MAX, searchPage, sqliteJsonPath, sqliteKind, sqliteValue } from '../payload-search.ts';
import { rowToJob, type JobRow } from './rows.ts';
import type { prepareStatements } from './statements.ts';

/**
 * Reads of jobs for the SQLite store (its methods delegate here, after checking the store is
 * open): by id, log lines, lists, payload search, next due time. They run on this thread,
 * outside the group commit.
 */

type Statements = ReturnType<typeof prepareStatements>;

/** Ids read per step of a list by name; the event loop runs between steps (see listNamed). */
const NAME_SCAN_CHUNK = 4096;

export function jobsGet(s: Statements, ids: readonly string[]): (Job | null)[] {
  return ids.map((id) => {
    const row = s.get.get(id) as unknown as JobRow | undefined;
    return row ? rowToJob(row) : null;
  });
}

export function jobLogs(s: Statements, id: string): JobLogLine[] | null {
  const row = s.logs.get(id) as { logs: string } | undefined;
  return row ? (JSON.parse(row.logs) as JobLogLine[]) : null;
}

export async function jobsList(db: DatabaseSync, s: Statements, p: ListParams): Promise<Job[]> {
  if (p.group !== undefined) return listGroup(db, s, p, p.group);
  if (p.name !== undefined) return listNamed(db, s, p, p.name);
  const rows = (p.state ? s.listByState : s.listAll).all(p.queue, p.state ?? null, p.after ?? '', p.to ?? ID_MAX, p.limit) as unknown as JobRow[];
  return rows.map(rowToJob);
}

export function jobsSearch(s: Statements, p: SearchParams): SearchPage {
  const m = p.payload;
  const rows = (p.state ? s.searchByState : s.searchAll).all(
    p.queue, p.state ?? null, p.after ?? '', p.to ?? ID_MAX, p.scanMax, p.limit, sqliteJsonPath(m), sqliteKind(m), sqliteValue(m), p.name ?? null, p.group ?? null,
  ) as unknown as (JobRow & { scan_n: number; scan_last: string | null })[];
  const jobs = rows.filter((r) => r.id !== null).map(rowToJob);
  return searchPage(jobs, p.limit, rows[0]?.scan_n ?? 0, rows[0]?.scan_last ?? null, p.scanMax);
}

/**
 * A list by name. No index holds the name (one would cost every add), so the queue's ids (in
 * the state, if given) are read from jobs_queue_state NAME_SCAN_CHUNK at a time, and the jobs
 * among them with the name fetched by key. SQLite runs on this thread: the event loop runs
 * between steps, so a rare name in a huge queue slows this call, not the process's workers.
 */
async function listNamed(db: DatabaseSync, s: Statements, p: ListParams, name: string): Promise<Job[]> {
  const jobs: Job[] = [];
  let after = p.after ?? '';
  for (let step = 0; jobs.length < p.limit; step++) {
    if (step > 0) await new Promise((resolve) => setImmediate(resolve));
    if (!db.isOpen) throw new ClosedError('the store');
    const ids = (p.state ? s.idsByState : s.idsByQueue).all(p.queue, p.state ?? null, after, p.to ?? ID_MAX, NAME_SCAN_CHUNK) as { id: string }[];
    if (ids.length === 0) break;
    const last = ids[ids.length - 1]!.id;
    const rows = (p.state
      ? s.namedInRange.all(p.queue, p.state, after, last, name, p.limit - jobs.length)
      : s.namedIn.all(JSON.stringify(ids.map((r) => r.id)), name, p.limit - jobs.length)) as unknown as JobRow[];
    for (const row of rows) jobs.push(rowToJob(row));
    if (ids.length < NAME_SCAN_CHUNK) break;
    after = last;
  }
  return jobs;
}

/**
 * A list by group: a range of jobs_queue_group (queue, group_key, id) from the cursor. A state
 * or name filter applies to the group's rows alone: the group's ids are read NAME_SCAN_CHUNK at
 * a time (index only), and the rows of each chunk's range that pass the filter fetched, with the
 * event loop running between steps (see listNamed).
 */
async function listGroup(db: DatabaseSync, s: Statements, p: ListParams, group: string): Promise<Job[]> {
  const to = p.to ?? ID_MAX;
  if (p.state === undefined && p.name === undefined) {
    return (s.listGroup.all(p.queue, group, p.after ?? '', to, p.limit) as unknown as JobRow[]).map(rowToJob);
  }
  const jobs: Job[] = [];
  let after = p.after ?? '';
  for (let step = 0; jobs.length < p.limit; step++) {
    if (step > 0) await new Promise((resolve) => setImmediate(resolve));
    if (!db.isOpen) throw new ClosedError('the store');
    const ids = s.idsByGroup.all(p.queue, group, after, to, NAME_SCAN_CHUNK) as { id: string }[];
    if (ids.length === 0) break;
    const last = ids[ids.length - 1]!.id;
    const rows = s.groupInRange.all(p.queue, group, after, last, p.state ?? null, p.name ?? null, p.limit - jobs.length) as unknown as JobRow[];
    for (const row of rows) jobs.push(rowToJob(row));
    if (ids.length < NAME_SCAN_CHUNK) break;
    after = last;
  }
  return jobs;
}

export function jobsNextDueAt(s: Statements): number | null {
  const row = s.nextDue.get() as { at: number | null };
  return row.at;
}
