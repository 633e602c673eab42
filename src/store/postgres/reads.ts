import type { Job, JobLogLine } from '../../core/job.ts';
import type { ListParams, SearchPage, SearchParams, Store } from '../store.ts';
import { ID_MAX, NIL_ID, searchPage } from '../payload-search.ts';
import type { PgContext } from './cluster.ts';
import { pgRowToJob, type PgJobRow } from './rows.ts';

/** Reads of jobs for the PostgreSQL store (its methods delegate here): by id, log lines, lists, payload search, next due time. */

export async function jobsGet(ctx: PgContext<Store>, ids: readonly string[]): Promise<(Job | null)[]> {
  if (ids.length === 0) return [];
  const rows = await ctx.run(() => ctx.db.q(ctx.q.get, [ids as string[]]), 'read jobs');
  const byId = new Map((rows as unknown as PgJobRow[]).map((r) => [r.id, pgRowToJob(r)]));
  return ids.map((id) => byId.get(id) ?? null);
}

export async function jobLogs(ctx: PgContext<Store>, id: string): Promise<JobLogLine[] | null> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.logs, [id]), 'read the log lines of a job');
  return rows[0] ? (rows[0].logs as JobLogLine[]) : null;
}

export async function jobsList(ctx: PgContext<Store>, p: ListParams): Promise<Job[]> {
  const after = p.after ?? NIL_ID;
  if (p.group !== undefined) {
    const where = p.state === undefined ? 'all' : p.state === 'completed' || p.state === 'dead' || p.state === 'cancelled' ? 'finished' : 'live';
    const params = [p.queue, p.group, after, p.to ?? ID_MAX, p.state ?? null, p.name ?? null, p.limit];
    const rows = await ctx.run(() => ctx.db.q(ctx.q.listGroup(where), params), 'list jobs');
    return (rows as unknown as PgJobRow[]).map(pgRowToJob);
  }
  const text = p.state === undefined ? ctx.q.listAll : p.state === 'completed' || p.state === 'dead' || p.state === 'cancelled' ? ctx.q.listFinished : ctx.q.listLive;
  const name = p.name ?? null;
  const to = p.to ?? ID_MAX;
  const params = p.state === undefined ? [p.queue, after, p.limit, name, to] : [p.queue, p.state, after, p.limit, name, to];
  const rows = await ctx.run(() => ctx.db.q(text, params), 'list jobs');
  return (rows as unknown as PgJobRow[]).map(pgRowToJob);
}

export async function jobsSearch(ctx: PgContext<Store>, p: SearchParams): Promise<SearchPage> {
  const where = p.state === undefined ? 'all' : p.state === 'completed' || p.state === 'dead' || p.state === 'cancelled' ? 'finished' : 'live';
  const params = [p.queue, p.after ?? NIL_ID, p.to ?? ID_MAX, p.scanMax, p.limit, JSON.stringify(p.payload.equals), p.name ?? null, p.group ?? null, ...p.payload.path];
  if (p.state !== undefined) params.push(p.state);
  const rows = (await ctx.run(() => ctx.db.q(ctx.q.search(where, p.payload.path.length), params), 'search jobs')) as unknown as (PgJobRow & { scan_n: number; scan_last: string | null })[];
  const jobs = rows.filter((r) => r.id !== null).map(pgRowToJob);
  return searchPage(jobs, p.limit, rows[0]?.scan_n ?? 0, rows[0]?.scan_last ?? null, p.scanMax);
}

export async function jobsNextDueAt(ctx: PgContext<Store>): Promise<number | null> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.nextDue, []), 'find the next due job');
  return (rows[0]?.at as number | null) ?? null;
}
