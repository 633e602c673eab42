/** The operation rows on jobs: add, read, wait, list, logs, cancel, retry, delete, bulk. */
import { InvalidArgumentError, JobWaitTimeoutError } from '../../core/errors.ts';
import { FINAL_STATES, type Job, type JobLogLine } from '../../core/job.ts';
import { LIMITS } from '../../core/limits.ts';
import { traceFromHeaders } from '../../core/trace-context.ts';
import type { AddItem, BulkAction, JobFilter, JobPage, ListOptions } from '../contract.ts';
import { jobIn, op, queueIn, type JobInput, type QueueInput } from '../operation-kit.ts';
import type { Operation } from '../operations.ts';
import { payloadFilterOf, payloadQuerySchemas, type PayloadQuery } from '../payload-query.ts';
import * as S from '../schemas.ts';

/** The filters a list or bulk call takes on the wire (flat, so a query string holds them). */
type ListInput = { state?: Job['state']; name?: string; group?: string; after?: string; limit?: number; createdAfter?: number; createdBefore?: number } & PayloadQuery;
const LIST_FILTER_FIELDS = ['group', 'createdAfter', 'createdBefore', 'payloadPath', 'payloadEquals'] as const;

/** List options from wire fields: the payload filter's two fields made one (see payload-query.ts). */
function listOptionsOf({ payloadPath, payloadEquals, ...rest }: ListInput): ListOptions {
  const payload = payloadFilterOf({ payloadPath, payloadEquals });
  return { ...rest, ...(payload ? { payload } : {}) };
}

/** The answer of a `waitJob` long poll: whether the job has finished, and the job as it stands. */
export type JobWaitReply = { finished: boolean; job: Job };
const jobWaitReply: S.Schema = {
  type: 'object', required: ['finished', 'job'],
  properties: { finished: { type: 'boolean', description: 'Whether the job is completed, dead or cancelled.' }, job: S.job },
};

const listPage: S.Schema = {
  type: 'object', required: ['jobs', 'next'],
  properties: { jobs: { type: 'array', items: S.job }, next: { type: ['string', 'null'], description: 'The `after` of the next page, or null on the last page.' } },
};

/** An add's jobs that give no `trace` take the one of the request's `traceparent` header, if any. */
function addTraceFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, input: Record<string, unknown>): Record<string, unknown> {
  const trace = traceFromHeaders(headers);
  if (!trace) return input;
  if (Array.isArray(input.jobs)) {
    return { ...input, jobs: input.jobs.map((j: unknown) => (typeof j === 'object' && j !== null && !Array.isArray(j) && !('trace' in j) ? { ...j, trace } : j)) };
  }
  return 'trace' in input || 'jobs' in input ? input : { ...input, trace };
}

/**
 * An add's input from its headers: jobs that give no `trace` take the one of `traceparent`; a
 * single add takes its `idempotencyKey` from the `Idempotency-Key` header (a batch gives one per job).
 */
function addFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, input: Record<string, unknown>): Record<string, unknown> {
  const withTrace = addTraceFromHeaders(headers, input);
  const header = headers['idempotency-key'];
  if (header === undefined) return withTrace;
  const key = Array.isArray(header) ? header.join(', ') : header;
  if ('jobs' in withTrace) {
    throw new InvalidArgumentError('idempotencyKey', 'the Idempotency-Key header is for a single add; in a batch, give each job its own idempotencyKey');
  }
  if ('idempotencyKey' in withTrace && withTrace.idempotencyKey !== key) {
    throw new InvalidArgumentError('idempotencyKey', 'the Idempotency-Key header and the body\'s idempotencyKey differ: give one');
  }
  return { ...withTrace, idempotencyKey: key };
}

export const JOB_OPERATIONS = [
  op<{ queue: string; payload?: unknown; jobs?: AddItem[] } & Record<string, unknown>, unknown>({
    name: 'addJobs',
    summary: 'Add one job (`payload` and options) or a batch (`jobs`, atomic: all or none)',
    action: 'publish', queue: 'input',
    input: {
      ...S.object({ ...queueIn, payload: S.anyJson, jobs: { type: 'array', minItems: 1, maxItems: LIMITS.addManyMax.max, items: S.addItem }, ...S.addOptions }, ['queue']),
      oneOf: [
        { required: ['payload'], not: { anyOf: [{ required: ['jobs'] }, { required: ['delayMs', 'runAt'] }] } },
        { required: ['jobs'], not: { anyOf: [{ required: ['payload'] }, ...Object.keys(S.addOptions).map((k) => ({ required: [k] }))] } },
      ],
    },
    output: { oneOf: [S.job, { type: 'object', required: ['jobs'], properties: { jobs: { type: 'array', items: S.job } } }] },
    http: { method: 'POST', path: '/v1/queues/{queue}/jobs', status: 201, fromHeaders: addFromHeaders,
      headers: [{ name: 'Idempotency-Key', description: 'A single add\'s `idempotencyKey` (see the body field): an add with a key the queue already holds, within the store\'s `idempotencyWindowMs`, stores nothing and answers 201 with the job the key created. A batch gives a key per job in its body instead.', schema: S.idempotencyKey }] },
    ws: { frame: 'publish' },
    inputRule: 'send "payload" (one job, with its options beside it) or "jobs" (a batch, options inside each job), not both; and delayMs or runAt, not both',
    errors: ['PAYLOAD_TOO_LARGE', 'QUEUE_FULL'],
    // A full bounded queue answers at once (429 QUEUE_FULL, Retry-After): an HTTP caller retries itself.
    async run(host, { queue, jobs, payload, ...options }) {
      if (jobs) return { jobs: await host.addWaiting(queue, jobs, 0) };
      const { queue: _q, ...rest } = options as Record<string, unknown>;
      return (await host.addWaiting(queue, [{ ...rest, payload }], 0))[0]!;
    },
  }),
  op<JobInput, Job>({
    name: 'getJob', summary: 'A job: its payload, state, result and attempt history',
    action: 'read', queue: 'self',
    input: S.object(jobIn, ['jobId']), output: S.job,
    http: { method: 'GET', path: '/v1/jobs/{jobId}' }, ws: { call: 'get' }, errors: ['JOB_NOT_FOUND'],
    async run(host, { jobId }, ctx) {
      const job = await host.get(jobId);
      ctx.authorize('read', job.queue);
      return job;
    },
  }),
  op<JobInput & { waitMs?: number }, JobWaitReply>({
    name: 'waitJob', summary: 'Long poll: a job once it has finished (completed, dead or cancelled), waiting up to `waitMs` for it',
    description: 'Answers `finished: true` with the job as soon as it is completed, dead or cancelled, or `finished: false` with the job as '
      + 'it stands (its `state` says whether it has started) when `waitMs` ran out (0, the default: look once). Waiting never cancels the job. '
      + 'The TypeScript client\'s `waitJob()` and `request()` ask again until their own deadline.',
    action: 'read', queue: 'self',
    input: S.object({ ...jobIn, waitMs: S.bounded('receiveWaitMaxMs', 'How long to wait for the job to finish; at most the broker\'s receiveWaitMaxMs.') }, ['jobId']),
    output: jobWaitReply,
    http: { method: 'GET', path: '/v1/jobs/{jobId}/wait', query: ['waitMs'] }, ws: { call: 'waitJob' }, errors: ['JOB_NOT_FOUND'],
    async run(host, { jobId, waitMs }, ctx) {
      const job = await host.get(jobId);
      ctx.authorize('read', job.queue);
      if (FINAL_STATES.has(job.state)) return { finished: true, job };
      try {
        return { finished: true, job: await host.waitJob(jobId, { timeoutMs: waitMs ?? 0, signal: ctx.signal }) };
      } catch (err) {
        if (err instanceof JobWaitTimeoutError) return { finished: false, job: await host.get(jobId) };
        throw err;
      }
    },
  }),
  op<QueueInput & ListInput, JobPage>({
    name: 'listJobs', summary: "A page of a queue's jobs in id (creation) order; pass `next` as `after` for the next page",
    description: 'Filters: state, name, group, a creation time range (createdAfter, createdBefore: Unix ms, both inclusive) and a payload field '
      + '(payloadPath, payloadEquals). A payload filter has no index: one call examines at most searchScanMax jobs, and `next` is where '
      + 'that scan stopped, so a page may be short, or empty, while `next` is not null. Go on until `next` is null.',
    action: 'read', queue: 'input',
    input: S.object({ ...queueIn, state: S.jobState, name: S.jobName, group: S.jobGroup, after: S.jobId, ...payloadQuerySchemas, limit: S.bounded('listLimit') }, ['queue']),
    output: listPage,
    http: { method: 'GET', path: '/v1/queues/{queue}/jobs', query: ['state', 'name', 'after', ...LIST_FILTER_FIELDS, 'limit'] }, ws: { call: 'list' }, errors: ['QUEUE_NOT_FOUND'],
    run: (host, { queue, ...input }) => host.listPage(queue, listOptionsOf(input)),
  }),
  op<JobInput, { lines: JobLogLine[] }>({
    name: 'getJobLogs', summary: "The lines a job's handlers wrote with job.log(), oldest first (the last jobLogMax are kept)",
    action: 'read', queue: 'self',
    input: S.object(jobIn, ['jobId']), output: S.jobLogs,
    http: { method: 'GET', path: '/v1/jobs/{jobId}/logs' }, ws: { call: 'logs' }, errors: ['JOB_NOT_FOUND'],
    async run(host, { jobId }, ctx) {
      const job = await host.get(jobId);
      ctx.authorize('read', job.queue);
      return { lines: await host.logs(jobId) };
    },
  }),
  op<JobInput, Job>({
    name: 'cancelJob', summary: 'Cancel a job that has not finished; a running handler is aborted',
    action: 'admin', queue: 'none',
    input: S.object(jobIn, ['jobId']), output: S.job,
    http: { method: 'POST', path: '/v1/jobs/{jobId}/cancel', body: false }, ws: { call: 'cancel' }, errors: ['JOB_NOT_FOUND', 'INVALID_STATE'],
    async run(host, { jobId }) {
      await host.cancel(jobId);
      return host.get(jobId);
    },
  }),
  op<JobInput, Job>({
    name: 'retryJob', summary: 'Run a dead or cancelled job again with fresh attempts, or a scheduled job now',
    action: 'admin', queue: 'none',
    input: S.object(jobIn, ['jobId']), output: S.job,
    http: { method: 'POST', path: '/v1/jobs/{jobId}/retry', body: false }, ws: { call: 'retry' }, errors: ['JOB_NOT_FOUND', 'INVALID_STATE'],
    async run(host, { jobId }) {
      await host.retry(jobId);
      return host.get(jobId);
    },
  }),
  op<JobInput, { id: string; deleted: true }>({
    name: 'deleteJob', summary: 'Delete a job that is not running (cancel a running one first)',
    action: 'admin', queue: 'none',
    input: S.object(jobIn, ['jobId']),
    output: { type: 'object', required: ['id', 'deleted'], properties: { id: S.jobId, deleted: { const: true } } },
    http: { method: 'DELETE', path: '/v1/jobs/{jobId}', body: false }, ws: { call: 'deleteJob' }, errors: ['JOB_NOT_FOUND', 'INVALID_STATE'],
    async run(host, { jobId }) {
      await host.deleteJob(jobId);
      return { id: jobId, deleted: true };
    },
  }),
  op<QueueInput & ListInput & { action: BulkAction }, unknown>({
    name: 'bulkJobs',
    summary: 'Retry, cancel or delete the jobs of a queue matching a filter, one bounded batch per call',
    description: 'Resumable: pass `next` back as `after` until it is null. Counts are per batch.',
    action: 'admin', queue: 'none',
    input: S.object({
      ...queueIn, action: { type: 'string', enum: ['retry', 'cancel', 'delete'] }, state: S.jobState, name: S.jobName, group: S.jobGroup, ...payloadQuerySchemas,
      after: S.jobId, limit: S.bounded('bulkBatchMax'),
    }, ['queue', 'action']),
    output: {
      type: 'object', required: ['matched', 'changed', 'skipped', 'next'],
      properties: { matched: { type: 'integer' }, changed: { type: 'integer' }, skipped: { type: 'integer' }, next: { type: ['string', 'null'] } },
    },
    http: { method: 'POST', path: '/v1/queues/{queue}/bulk' }, ws: { call: 'bulk' },
    run: (host, { action, queue, after, limit, ...filter }) =>
      host.bulk(action, { queue, ...listOptionsOf(filter) } as JobFilter, { ...(after ? { after } : {}), ...(limit ? { limit } : {}) }),
  }),
] as const satisfies readonly Operation[];
