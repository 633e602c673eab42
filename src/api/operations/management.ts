/** The operation rows for operators and probes: the overview, capacity planning, health and readiness. */
import { LIMITS } from '../../core/limits.ts';
import { queueCapacity, type QueueCapacity } from '../../model/capacity.ts';
import { op, queueIn, type QueueInput } from '../operation-kit.ts';
import type { Operation } from '../operations.ts';
import * as S from '../schemas.ts';

export const MANAGEMENT_OPERATIONS = [
  op<{ history?: boolean }, unknown>({
    name: 'overview', summary: "Every queue's stats with its live queueing model (λ, μ, ρ, L, W), and the consumers; `history=true` adds the last hour",
    description: 'Cluster-wide: aggregated by the broker that answers from what every process sharing the store publishes about itself (about once a second), over a sliding window; at most once a second however often it is asked. Lists the queues the caller may read.',
    action: 'read', queue: 'self',
    input: S.object({ history: { type: 'boolean', description: 'Add the last hour, one point per 10 s, for charts.' } }), output: S.overview,
    http: { method: 'GET', path: '/v1/overview', query: ['history'] }, ws: { call: 'overview' },
    async run(host, { history }, ctx) {
      const o = await host.overview(history === true ? { history: true } : {});
      const queues = o.queues.filter((q) => ctx.access.can('read', q.queue));
      const readable = new Set(queues.map((q) => q.queue));
      return {
        ...o,
        queues,
        alerts: o.alerts.filter((a) => ctx.access.can('read', a.queue)),
        consumers: o.consumers.map((c) => ({ ...c, queues: c.queues.filter((q) => readable.has(q.queue)) })).filter((c) => c.queues.length > 0 || ctx.access.can('admin')),
        ...(o.history ? { history: { ...o.history, queues: Object.fromEntries(Object.entries(o.history.queues).filter(([q]) => readable.has(q))) } } : {}),
      };
    },
  }),
  op<QueueInput & { targetWaitMs?: number }, QueueCapacity>({
    name: 'queueCapacity', summary: 'The workers a target mean wait needs by the M/M/c model (Erlang C), from the measured λ and service time, with the wait today\'s workers give',
    description: 'From the queue\'s model in the overview of the broker that answers (`at` says when it was aggregated, at most a second ago); the assumptions come with the numbers.',
    action: 'read', queue: 'input',
    input: S.object({ ...queueIn, targetWaitMs: S.bounded('capacityTargetWaitMs', 'The target mean wait before a job starts, in ms.') }, ['queue']),
    output: S.queueCapacity,
    http: { method: 'GET', path: '/v1/queues/{queue}/capacity', query: ['targetWaitMs'] }, ws: { call: 'capacity' }, errors: ['QUEUE_NOT_FOUND'],
    async run(host, { queue, targetWaitMs }) {
      await host.queueConfig(queue); // a name no job or setting made is QUEUE_NOT_FOUND, as for every queue read
      const o = await host.overview();
      return queueCapacity(queue, o.at, o.queues.find((q) => q.queue === queue)?.model ?? null, targetWaitMs ?? LIMITS.capacityTargetWaitMs.default);
    },
  }),
  op<Record<string, never>, { status: 'ok' }>({
    name: 'healthz', summary: 'The process is up', action: 'public', queue: 'none',
    input: S.object({}), output: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
    http: { method: 'GET', path: '/healthz' }, ws: null,
    run: async () => ({ status: 'ok' as const }),
  }),
  op<Record<string, never>, { ready: boolean; reason: string | null }>({
    name: 'readyz', summary: 'The broker can reach its store (503 with a `reason` when not)', action: 'public', queue: 'none',
    input: S.object({}), output: { type: 'object', required: ['ready', 'reason'], properties: { ready: { type: 'boolean' }, reason: { type: ['string', 'null'] } } },
    http: { method: 'GET', path: '/readyz', statusOf: (out: { ready: boolean }) => (out.ready ? 200 : 503) }, ws: null,
    run: async (host) => {
      const h = host.health();
      return { ready: h.healthy, reason: h.reason };
    },
  }),
] as const satisfies readonly Operation[];
