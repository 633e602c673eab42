/** The operation rows on leases: receive, ack, nack, extend, report. */
import type { Job } from '../../core/job.ts';
import { LIMITS } from '../../core/limits.ts';
import { checkResourceTags } from '../../core/resource-tags.ts';
import { leaseBatch, op, queueIn, results, settleEach, type QueueInput } from '../operation-kit.ts';
import type { Operation } from '../operations.ts';
import { receive } from '../receive.ts';
import * as S from '../schemas.ts';

export const LEASE_OPERATIONS = [
  op<QueueInput & { max?: number; waitMs?: number; tags?: string[] }, { jobs: Job[] }>({
    name: 'receive',
    summary: 'Lease up to `max` jobs, waiting up to `waitMs` for the first (long poll)',
    description: 'Each job carries `id` and `leaseToken`: settle it with ack, nack or extend before `leaseExpiresAt`.',
    action: 'consume', queue: 'input',
    input: S.object({ ...queueIn, max: { type: 'integer', minimum: 1, maximum: LIMITS.claimBatchMax.max, description: 'Default 1.' }, waitMs: S.bounded('receiveWaitMaxMs', 'How long to wait for a first job; at most the broker\'s receiveWaitMaxMs.'), tags: S.resourceTags('The resource tags the caller offers (as a worker\'s `tags`): jobs whose `requires` are all among them are received too. Absent: only jobs without `requires`.') }, ['queue']),
    output: { type: 'object', required: ['jobs'], properties: { jobs: { type: 'array', items: S.job } } },
    http: {
      method: 'POST', path: '/v1/queues/{queue}/receive',
      links: {
        ack: { operationId: 'ack', description: 'Complete the first job received', requestBody: { leases: [{ jobId: '$response.body#/jobs/0/id', token: '$response.body#/jobs/0/leaseToken' }] } },
        nack: { operationId: 'nack', description: 'Fail the first job received', requestBody: { leases: [{ jobId: '$response.body#/jobs/0/id', token: '$response.body#/jobs/0/leaseToken' }] } },
        extend: { operationId: 'extend', description: 'Keep the first job received longer', requestBody: { leases: [{ jobId: '$response.body#/jobs/0/id', token: '$response.body#/jobs/0/leaseToken' }] } },
      },
    },
    ws: { frame: 'subscribe' },
    run: async (host, { queue, max, waitMs, tags }, ctx) => ({ jobs: await receive(host, queue, max ?? 1, waitMs ?? 0, ctx.signal, tags === undefined ? [] : checkResourceTags(tags, 'tags')) }),
  }),
  op<{ leases: { jobId: string; token: number; result?: unknown }[] }, unknown>({
    name: 'ack', summary: 'Complete leased jobs, one outcome per lease (a stale lease fails alone)',
    action: 'consume', queue: 'self',
    input: leaseBatch({ result: S.anyJson }), output: results(null),
    http: { method: 'POST', path: '/v1/ack' }, ws: { frame: 'ack' },
    run: (host, { leases }, ctx) => settleEach(leases, ctx, (l) => host.ack({ jobId: l.jobId, token: l.token }, l.result)),
  }),
  op<{ leases: { jobId: string; token: number; error?: string; unrecoverable?: boolean }[] }, unknown>({
    name: 'nack', summary: 'Fail leased jobs: each is retried after its backoff or dead-lettered',
    action: 'consume', queue: 'self',
    input: leaseBatch({ error: { type: 'string' }, unrecoverable: { type: 'boolean' } }),
    output: results({ type: 'object', required: ['state'], properties: { state: S.jobState } }),
    http: { method: 'POST', path: '/v1/nack' }, ws: { frame: 'nack' },
    run: (host, { leases }, ctx) =>
      settleEach(leases, ctx, async (l) => ({ state: await host.nack({ jobId: l.jobId, token: l.token }, l.error ?? 'failed', { unrecoverable: l.unrecoverable === true }) })),
  }),
  op<{ leases: { jobId: string; token: number; leaseMs?: number }[] }, unknown>({
    name: 'extend', summary: "Push leases' deadlines out by the queue's visibility timeout (or `leaseMs`)",
    action: 'consume', queue: 'self',
    input: leaseBatch({ leaseMs: S.bounded('visibilityTimeoutMs', 'New lease length.') }),
    output: results({ type: 'object', required: ['leaseExpiresAt'], properties: { leaseExpiresAt: { type: 'integer' } } }),
    http: { method: 'POST', path: '/v1/extend' }, ws: { frame: 'extend' },
    run: (host, { leases }, ctx) => settleEach(leases, ctx, async (l) => ({ leaseExpiresAt: await host.extend({ jobId: l.jobId, token: l.token }, l.leaseMs) })),
  }),
  op<{ leases: { jobId: string; token: number; progress?: unknown; logs?: string[] }[] }, unknown>({
    name: 'report', summary: "Store running jobs' progress and append log lines, one outcome per lease (a stale lease fails alone)",
    description: 'What `job.progress()` and `job.log()` send. Each item needs `progress`, `logs` or both.',
    action: 'consume', queue: 'self',
    input: leaseBatch({ progress: S.anyJson, logs: { type: 'array', maxItems: LIMITS.jobLogMax.max, items: { type: 'string' } } }),
    output: results(null),
    http: { method: 'POST', path: '/v1/report' }, ws: { call: 'report' },
    run: (host, { leases }, ctx) =>
      settleEach(leases, ctx, (l) => host.report({ jobId: l.jobId, token: l.token }, { ...(l.progress === undefined ? {} : { progress: l.progress }), ...(l.logs ? { logs: l.logs } : {}) })),
  }),
] as const satisfies readonly Operation[];
