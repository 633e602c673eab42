import type { BulkAction, BulkResult, JobFilter } from '../api/contract.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import type { Lease } from '../core/job.ts';
import { checkLimit, describe, LIMITS } from '../core/limits.ts';
import { checkOptionKeys } from '../core/options.ts';
import { checkJobGroup, checkJobName, checkQueueName } from '../core/validate.ts';
import type { PayloadMatch, Store } from '../store/store.ts';
import { checkPayloadFilter, idRange } from './list-filter.ts';
import { checkJobId, checkJobState } from '../core/validate.ts';

export const BULK_ACTIONS: readonly BulkAction[] = ['retry', 'cancel', 'delete'];
const FILTER_KEYS = ['queue', 'state', 'name', 'group', 'createdAfter', 'createdBefore', 'payload'];
const OPTION_KEYS = ['after', 'limit'];

/**
 * Jobs read per store call of a bulk batch: a batch may be up to bulkBatchMax (10,000) jobs,
 * but jobs are read with their payloads, so no more at once than a list page may hold.
 */
const PAGE = LIMITS.listLimit.max;

/** What one bulk batch did, and what the caller must do in this process. */
export interface BulkOutcome {
  result: BulkResult;
  /** Cancel: the leases of the active jobs cancelled, (job id, token) each, to revoke exactly those deliveries. */
  revoke: Lease[];
  /** Retry: the queue whose consumers are to be woken (jobs became ready), or null. */
  wake: string | null;
}

/** A bulk filter, checked: what the store is asked for. */
export type CheckedFilter = Omit<JobFilter, 'payload'> & { payload?: PayloadMatch };

/**
 * Validates a bulk filter: `queue` (required), `state` (one of JOB_STATES), `name` (a job
 * name, exact match), `group` (a job group, exact match), `createdAfter`/`createdBefore` (Unix ms, inclusive) and `payload`
 * ({ path, equals }, as a list takes them), nothing else.
 * @throws InvalidArgumentError naming the key at fault.
 */
export function checkJobFilter(filter: unknown): CheckedFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new InvalidArgumentError('filter', `bulk: the filter must be an object { queue, state?, name?, group?, createdAfter?, createdBefore?, payload? } (got ${describe(filter)})`);
  }
  checkOptionKeys(filter, FILTER_KEYS, 'bulk', 'filter key');
  const f = filter as Record<string, unknown>;
  const checked: CheckedFilter = { queue: checkQueueName(f.queue) };
  if (f.state !== undefined) checked.state = checkJobState(f.state);
  if (f.name !== undefined) checked.name = checkJobName(f.name);
  if (f.group !== undefined) checked.group = checkJobGroup(f.group);
  idRange(undefined, f.createdAfter, f.createdBefore); // checks both, and their order
  if (f.createdAfter !== undefined) checked.createdAfter = f.createdAfter as number;
  if (f.createdBefore !== undefined) checked.createdBefore = f.createdBefore as number;
  if (f.payload !== undefined) checked.payload = checkPayloadFilter(f.payload, 'bulk');
  return checked;
}

/**
 * Retries, cancels or deletes one bounded batch of the jobs of `filter.queue` matching the
 * filter, in id (creation) order after `options.after`: at most `options.limit` jobs
 * (default and bound: bulkBatchMax). Pass `next` back as `after` until it is null.
 *
 * Each job is changed atomically, and only if its state allows the action (as retryJob,
 * cancelJob and deleteJob decide: retry takes dead, cancelled and scheduled jobs; cancel
 * scheduled, ready and active ones; delete every state but active); the other matched jobs
 * are `skipped` (so matched = changed + skipped), as is one that vanished between the read and
 * the action. A batch is not one transaction: each page of it is read, then acted on.
 *
 * A payload filter has no index: a batch with one is a single bounded search (at most
 * `scanMax` jobs examined, at most a list page, 1,000, acted on), and `next` is where the scan
 * stopped: a batch may match nothing while `next` is not null.
 *
 * Paging: ids are time-ordered (UUIDv7), so the cursor never revisits a job, and no job is
 * acted on twice in one pass. A job added during the pass has a later id than the cursor: a
 * later batch handles it if it matches then. A job that comes to match after the cursor passed
 * its id (e.g. one that dies after its page was read) is not handled by this pass: run another.
 * Ids made by other processes within the same millisecond as the cursor may sort before it.
 *
 * @returns `result` for the caller; `revoke` (cancel) the leases to revoke in this process;
 * `wake` (retry) the queue to wake.
 * @throws InvalidArgumentError for an unknown action, a bad filter (unknown key, bad queue,
 * state or name) or bad options (unknown key, `after` not a job id, `limit` out of bounds).
 */
export async function bulkAction(
  store: Store,
  action: BulkAction,
  filter: JobFilter,
  options: { after?: string; limit?: number } | undefined,
  now: number,
  scanMax: number,
): Promise<BulkOutcome> {
  if (!BULK_ACTIONS.includes(action)) {
    throw new InvalidArgumentError('action', `bulk: action must be one of ${BULK_ACTIONS.join(', ')} (got ${describe(action)})`);
  }
  const { queue, state, name, group, createdAfter, createdBefore, payload } = checkJobFilter(filter);
  checkOptionKeys(options, OPTION_KEYS, 'bulk');
  const after = options?.after === undefined ? undefined : checkJobId(options.after, 'after');
  const limit = checkLimit('bulkBatchMax', options?.limit, 'limit');
  const range = idRange(after, createdAfter, createdBefore);

  if (payload) {
    // One bounded search: at most scanMax jobs examined, at most a page acted on; `next` is
    // where the scan stopped, so a batch may match none while the pass is not over.
    const page = await store.jobsSearch({ queue, state, name, group, ...range, limit: Math.min(PAGE, limit), payload, scanMax });
    const ids = page.jobs.map((j) => j.id);
    const revoke: Lease[] = [];
    const changed = ids.length > 0 ? await apply(store, action, ids, now, revoke) : 0;
    return {
      result: { matched: ids.length, changed, skipped: ids.length - changed, next: page.next },
      revoke,
      wake: action === 'retry' && changed > 0 ? queue : null,
    };
  }

  let matched = 0;
  let changed = 0;
  let cursor = range.after;
  let exhausted = false;
  const revoke: Lease[] = [];
  while (matched < limit) {
    const want = Math.min(PAGE, limit - matched);
    const ids = (await store.jobsList({ queue, state, name, group, after: cursor, to: range.to, limit: want })).map((j) => j.id);
    if (ids.length > 0) {
      changed += await apply(store, action, ids, now, revoke);
      matched += ids.length;
      cursor = ids[ids.length - 1];
    }
    if (ids.length < want) {
      exhausted = true;
      break;
    }
  }
  return {
    result: { matched, changed, skipped: matched - changed, next: exhausted ? null : (cursor ?? null) },
    revoke,
    wake: action === 'retry' && changed > 0 ? queue : null,
  };
}

/** Applies the action to one page of ids (one store call); returns how many it changed. */
async function apply(store: Store, action: BulkAction, ids: string[], now: number, revoke: Lease[]): Promise<number> {
  let changed = 0;
  switch (action) {
    case 'retry':
      for (const r of await store.jobsRetry(ids, now)) if (r.found && r.retried) changed++;
      break;
    case 'cancel': {
      const results = await store.jobsCancel(ids, now);
      for (let i = 0; i < results.length; i++) {
        const r = results[i]!;
        if (!r.found || !r.cancelled) continue;
        changed++;
        if (r.previous === 'active') revoke.push({ jobId: ids[i]!, token: r.token });
      }
      break;
    }
    case 'delete':
      for (const r of await store.jobsDelete(ids, now)) if (r.found && r.deleted) changed++;
      break;
  }
  return changed;
}
