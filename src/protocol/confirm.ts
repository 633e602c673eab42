/**
 * The compact confirm of an atomic `publish` (docs/protocol.md, frame `publish`, `confirm: "ids"`):
 * the first job whole, and every other one as its id plus the fields in which it differs from the
 * first. The jobs of one add share nearly everything (queue, defaults, times, state), so a batch
 * of 1,000 alike comes back as 1,000 ids and one job instead of 1,000 jobs; the client rebuilds
 * each job exactly. A job whose fields are not the first's set (a duplicate, which carries its own
 * payload; a job with other optional fields) comes back whole.
 */
import type { Job } from '../core/job.ts';
import type { PublishedJob } from './frames.ts';

/** Another job of the batch: its id and where it differs from the first, or the job whole. */
export type ConfirmEntry = ({ id: string } & Partial<PublishedJob>) | { whole: PublishedJob };

export interface CompactConfirm {
  first: PublishedJob;
  others: ConfirmEntry[];
}

/** Whether two field values are the same as JSON (the wire's view of them). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) && Array.isArray(b) && a.length === 0 && b.length === 0) return true; // history, requires: the common case
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The broker's side: the stored `jobs` (at least one) as a compact confirm, their payloads left
 * out (the client has them) but a duplicate's, which is the holding job's own. Built from the jobs
 * as stored, without a payload-less copy of each.
 */
export function compactConfirm(jobs: readonly Job[]): CompactConfirm {
  const first = withoutPayload(jobs[0]!);
  const keys = (Object.keys(jobs[0]!) as (keyof Job)[]).filter((k) => k !== 'payload');
  const others = jobs.slice(1).map((job): ConfirmEntry => {
    if (Object.keys(job).length !== keys.length + 1 || keys.some((k) => !(k in job))) return { whole: withoutPayload(job) };
    const entry: Record<string, unknown> = { id: job.id };
    for (const k of keys) if (k !== 'id' && !sameValue(job[k], jobs[0]![k])) entry[k] = job[k];
    if (job.duplicate) entry.payload = job.payload;
    return entry as ConfirmEntry;
  });
  return { first, others };
}

/** The client's side: the jobs of a compact confirm, as the broker had them. */
export function expandConfirm({ first, others }: CompactConfirm): PublishedJob[] {
  // Fields that are objects (history, requires, trace) are copied for each job that takes them
  // from the first: a caller that changes one job's never changes another's.
  const objects = (Object.keys(first) as (keyof PublishedJob)[]).filter((k) => typeof first[k] === 'object' && first[k] !== null);
  const jobs: PublishedJob[] = [first];
  for (const entry of others) {
    if ('whole' in entry) {
      jobs.push(entry.whole);
      continue;
    }
    const job: Record<string, unknown> = { ...first, ...entry };
    for (const k of objects) if (!(k in entry)) job[k] = copy(first[k]);
    jobs.push(job as PublishedJob);
  }
  return jobs;
}

/** A copy of a JSON value (cheaper than structuredClone for the small values of a job). */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : value.map(copy);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
  return value;
}

/**
 * A job without its payload: what a publish confirm sends back (the client has the payload).
 * A duplicate (its uniqueKey held by another job) keeps the payload: it is that job's, not the add's.
 */
export function withoutPayload(job: Job): PublishedJob {
  if (job.duplicate) return job;
  const { payload: _payload, ...rest } = job;
  return rest;
}

/** A published job with the payload the add sent, unless it is a duplicate: then the broker sent the holder's own. */
export function withPayload<P>(job: PublishedJob, payload: P): Job<P> {
  return (job.duplicate ? job : { ...job, payload }) as Job<P>;
}
