/** The operation rows on queues: stats, settings, delete, pause, resume, purge. */
import type { QueueStats } from '../../core/job.ts';
import { DrainTimeoutError } from '../../core/errors.ts';
import { resolveQueueConfig, type QueueConfigInput } from '../../core/queue-config.ts';
import { op, queueIn, type QueueInput } from '../operation-kit.ts';
import type { Operation, OperationHost } from '../operations.ts';
import * as S from '../schemas.ts';

const purged: S.Schema = { type: 'object', required: ['purged'], properties: { purged: { type: 'integer' } } };
const named = (config: S.Schema): S.Schema => ({ type: 'object', required: ['name', 'config'], properties: { name: S.queueName, config } });

/** The answer of a `drained` long poll: whether the queue is drained, else what it still had. */
export type DrainedReply = { drained: boolean; ready: number; scheduled: number; active: number };
const count: S.Schema = { type: 'integer', minimum: 0 };
const drainedReply: S.Schema = {
  type: 'object', required: ['drained', 'ready', 'scheduled', 'active'],
  properties: { drained: { type: 'boolean' }, ready: count, scheduled: count, active: count },
};

const statsOf = async (host: OperationHost, queue: string): Promise<QueueStats> => (await host.stats(queue))[0]!;

export const QUEUE_OPERATIONS = [
  op<{ queue?: string }, QueueStats[]>({
    name: 'listQueues', summary: 'Counts per state, oldest ready age and paused flag of every queue the caller may read',
    action: 'read', queue: 'self',
    input: S.object(queueIn), output: { type: 'array', items: S.queueStats },
    http: {
      method: 'GET', path: '/v1/queues',
      reply: { map: (out) => ({ queues: out }), schema: { type: 'object', required: ['queues'], properties: { queues: { type: 'array', items: S.queueStats } } } },
    },
    ws: { call: 'stats' },
    async run(host, { queue }, ctx) {
      if (queue !== undefined) ctx.authorize('read', queue);
      return (await host.stats(queue)).filter((s) => ctx.access.can('read', s.queue));
    },
  }),
  op<QueueInput, QueueStats>({
    name: 'queueStats', summary: 'Counts per state, oldest ready age and paused flag of one queue',
    action: 'read', queue: 'input',
    input: S.object(queueIn, ['queue']), output: S.queueStats,
    http: { method: 'GET', path: '/v1/queues/{queue}/stats' }, ws: null, errors: ['QUEUE_NOT_FOUND'],
    run: (host, { queue }) => statsOf(host, queue),
  }),
  op<QueueInput & { waitMs?: number }, DrainedReply>({
    name: 'queueDrained', summary: 'Long poll: whether a queue has no job ready, scheduled or active, waiting up to `waitMs` for it',
    description: 'Answers `drained: true` as soon as the queue has nothing ready, scheduled or active (every job finished), or '
      + '`drained: false` with what it still had when `waitMs` ran out (0, the default: look once). The TypeScript client\'s '
      + '`queue.drained()` and `spool wait` ask again until their own deadline.',
    action: 'read', queue: 'input',
    input: S.object({ ...queueIn, waitMs: S.bounded('receiveWaitMaxMs', 'How long to wait for the queue to drain; at most the broker\'s receiveWaitMaxMs.') }, ['queue']),
    output: drainedReply,
    http: { method: 'GET', path: '/v1/queues/{queue}/drained', query: ['waitMs'] }, ws: { call: 'drained' }, errors: ['QUEUE_NOT_FOUND'],
    async run(host, { queue, waitMs }, ctx) {
      try {
        await host.drained(queue, { timeoutMs: waitMs ?? 0, signal: ctx.signal });
        return { drained: true, ready: 0, scheduled: 0, active: 0 };
      } catch (err) {
        if (err instanceof DrainTimeoutError) return { drained: false, ...err.left };
        throw err;
      }
    },
  }),
  op<QueueInput, { name: string; config: unknown }>({
    name: 'getQueue', summary: "A queue's settings",
    action: 'read', queue: 'input',
    input: S.object(queueIn, ['queue']), output: named(S.queueConfig),
    http: { method: 'GET', path: '/v1/queues/{queue}' }, ws: { call: 'config' }, errors: ['QUEUE_NOT_FOUND'],
    run: async (host, { queue }) => ({ name: queue, config: await host.queueConfig(queue) }),
  }),
  op<QueueInput & { config?: QueueConfigInput }, { name: string; config: unknown }>({
    name: 'configureQueue', summary: "Change a queue's settings; what is left out keeps its value",
    action: 'admin', queue: 'none',
    input: S.object({ ...queueIn, config: S.queueConfigInput }, ['queue']), output: named(S.queueConfig),
    http: { method: 'PUT', path: '/v1/queues/{queue}', bodyAs: 'config' }, ws: { call: 'configure' }, inputRoot: 'config',
    explain: ({ config }: { config?: unknown }) => void resolveQueueConfig(config),
    run: async (host, { queue, config }) => ({ name: queue, config: await host.configureQueue(queue, config ?? {}) }),
  }),
  op<QueueInput & { force?: boolean }, { name: string; jobsDeleted: number }>({
    name: 'deleteQueue', summary: 'Delete a queue and all its jobs; refused while jobs are running unless `force`',
    description: 'With `force`, running jobs are deleted too: their workers\' acks then fail STALE_LEASE.',
    action: 'admin', queue: 'none',
    input: S.object({ ...queueIn, force: { type: 'boolean' } }, ['queue']),
    output: { type: 'object', required: ['name', 'jobsDeleted'], properties: { name: S.queueName, jobsDeleted: { type: 'integer' } } },
    http: { method: 'DELETE', path: '/v1/queues/{queue}', query: ['force'], body: false }, ws: { call: 'deleteQueue' }, errors: ['INVALID_STATE'],
    run: async (host, { queue, force }) => ({ name: queue, ...(await host.deleteQueue(queue, { force: force === true })) }),
  }),
  op<QueueInput, QueueStats>({
    name: 'pauseQueue', summary: 'Stop deliveries from a queue (adds are still accepted); every broker obeys within settingsRefreshMs',
    action: 'admin', queue: 'none',
    input: S.object(queueIn, ['queue']), output: S.queueStats,
    http: { method: 'POST', path: '/v1/queues/{queue}/pause', body: false }, ws: { call: 'pause' }, errors: ['QUEUE_NOT_FOUND'],
    async run(host, { queue }) {
      await host.setPaused(queue, true);
      return statsOf(host, queue);
    },
  }),
  op<QueueInput, QueueStats>({
    name: 'resumeQueue', summary: 'Resume deliveries from a paused queue',
    action: 'admin', queue: 'none',
    input: S.object(queueIn, ['queue']), output: S.queueStats,
    http: { method: 'POST', path: '/v1/queues/{queue}/resume', body: false }, ws: { call: 'resume' }, errors: ['QUEUE_NOT_FOUND'],
    async run(host, { queue }) {
      await host.setPaused(queue, false);
      return statsOf(host, queue);
    },
  }),
  op<QueueInput, { purged: number }>({
    name: 'purgeQueue', summary: 'Delete every waiting (ready or scheduled) job of a queue; running and finished jobs stay',
    action: 'admin', queue: 'none',
    input: S.object(queueIn, ['queue']), output: purged,
    http: { method: 'POST', path: '/v1/queues/{queue}/purge', body: false }, ws: { call: 'purge' }, errors: ['QUEUE_NOT_FOUND'],
    run: async (host, { queue }) => ({ purged: await host.purge(queue) }),
  }),
] as const satisfies readonly Operation[];
