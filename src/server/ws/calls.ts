import type { Spool } from '../../engine/spool.ts';
import type { CallMethod } from '../../protocol/frames.ts';
import { authorize, PERMISSIONS } from '../auth/permissions.ts';
import type { Principal } from '../auth/scopes.ts';

type Params = Record<string, unknown>;

const queueOf = (p: Params) => p.queue as string;

/**
 * The read and management calls of the WebSocket protocol: each is the Spool method of
 * the same name, behind the same permission as its HTTP route.
 */
export async function runCall(spool: Spool, access: Principal, method: CallMethod, p: Params): Promise<unknown> {
  const need = (action: 'read' | 'admin', queue?: string) => authorize(access, action, queue);
  switch (method) {
    case 'get': {
      const job = await spool.get(p.jobId as string);
      need(PERMISSIONS.getJob, job.queue);
      return job;
    }
    case 'cancel':
    case 'retry': {
      need(PERMISSIONS.manageJob);
      await (method === 'cancel' ? spool.cancel(p.jobId as string) : spool.retry(p.jobId as string));
      return spool.get(p.jobId as string);
    }
    case 'list':
      need(PERMISSIONS.readQueue, queueOf(p));
      return spool.list(queueOf(p), { state: p.state as never, after: p.after as string | undefined, limit: p.limit as number | undefined });
    case 'stats': {
      if (p.queue !== undefined) need(PERMISSIONS.readQueue, queueOf(p));
      const all = await spool.stats(p.queue === undefined ? undefined : queueOf(p));
      return all.filter((s) => access.can('read', s.queue));
    }
    case 'config':
      need(PERMISSIONS.readQueue, queueOf(p));
      return spool.queueConfig(queueOf(p));
    case 'configure':
      need(PERMISSIONS.manageQueue);
      return spool.configureQueue(queueOf(p), (p.config ?? {}) as never);
    case 'pause':
    case 'resume':
      need(PERMISSIONS.manageQueue);
      await spool.setPaused(queueOf(p), method === 'pause');
      return null;
    case 'purge':
      need(PERMISSIONS.manageQueue);
      return spool.purge(queueOf(p));
  }
}
