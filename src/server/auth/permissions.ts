import { ForbiddenError } from '../../core/errors.ts';
import { isJobId } from '../../core/ids.ts';
import type { Store } from '../../store/store.ts';
import type { Action, Principal } from './scopes.ts';

/**
 * What each broker operation needs, for HTTP routes and the WebSocket layer alike, so
 * both enforce one set of rules. `read` is allowed by publish or consume on the queue.
 */
export const PERMISSIONS = {
  /** Add jobs to a queue. */
  addJobs: 'publish',
  /** Receive (lease) jobs from a queue. */
  receive: 'consume',
  /** Ack, nack, extend or release a lease: consume on the job's queue (see {@link settleDenials}). */
  settle: 'consume',
  /** Look at one job: read on its queue. */
  getJob: 'read',
  /** Cancel or retry a job (operator actions). */
  manageJob: 'admin',
  /** A queue's settings, stats or jobs. */
  readQueue: 'read',
  /** Configure, pause, resume or purge a queue. */
  manageQueue: 'admin',
} as const satisfies Record<string, Action>;

/**
 * The scope a principal lacks when `action` on `queue` is refused, for the error message.
 * @example
 * neededScope('read', 'orders.eu'); // 'publish:orders.eu or consume:orders.eu'
 */
export function neededScope(action: Action, queue?: string): string {
  const on = queue ?? '<queue>';
  if (action === 'admin') return 'admin';
  if (action === 'read') return `publish:${on} or consume:${on}`;
  return `${action}:${on}`;
}

/**
 * Throws unless the principal may do `action` on `queue`.
 * @throws ForbiddenError naming the scope that was needed.
 * @example
 * authorize(principal, PERMISSIONS.addJobs, 'orders.eu');
 */
export function authorize(principal: Principal, action: Action, queue?: string): void {
  if (!principal.can(action, queue)) throw new ForbiddenError(neededScope(action, queue));
}

/**
 * For a batch of lease operations (ack, nack, extend, release): the job ids whose queue the
 * principal may not consume from, each with the error to report for that item. Looks the
 * jobs up in one store read, and not at all for a principal that may consume everything.
 * Ids that are not job ids or name no job are not denied here: the operation itself
 * reports them as it always does.
 */
export async function settleDenials(store: Store, principal: Principal, jobIds: readonly string[]): Promise<Map<string, ForbiddenError>> {
  const denied = new Map<string, ForbiddenError>();
  if (principal.can('admin') || principal.scopes.some((s) => s.kind === 'consume' && s.pattern === '*')) return denied;
  const ids = [...new Set(jobIds.filter(isJobId))];
  if (ids.length === 0) return denied;
  const jobs = await store.jobsGet(ids);
  for (const job of jobs) {
    if (job && !principal.can(PERMISSIONS.settle, job.queue)) denied.set(job.id, new ForbiddenError(neededScope(PERMISSIONS.settle, job.queue)));
  }
  return denied;
}
