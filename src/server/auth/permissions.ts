import { ForbiddenError } from '../../core/errors.ts';
import { isJobId } from '../../core/ids.ts';
import type { Store } from '../../store/store.ts';
import type { Action } from '../../api/operations.ts';
import type { Principal } from './scopes.ts';

/**
 * The scope a principal lacks when `action` on `queue` is refused, for the error message.
 * @example
 * neededScope('read', 'orders.eu'); // 'publish:orders.eu, consume:orders.eu or view'
 */
export function neededScope(action: Action, queue?: string): string {
  const on = queue ?? '<queue>';
  if (action === 'admin') return 'admin';
  if (action === 'read') return `publish:${on}, consume:${on} or view`;
  return `${action}:${on}`;
}

/**
 * Throws unless the principal may do `action` on `queue`.
 * @throws ForbiddenError naming the scope that was needed.
 * @example
 * authorize(principal, 'publish', 'orders.eu');
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
    if (job && !principal.can('consume', job.queue)) denied.set(job.id, new ForbiddenError(neededScope('consume', job.queue)));
  }
  return denied;
}
