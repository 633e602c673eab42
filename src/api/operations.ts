/**
 * The one table of Spool's operations. For each: its name, what it needs (scope), its input
 * and output schemas, the call it makes on a {@link SpoolClient}, its HTTP route and its
 * WebSocket method. The HTTP routes, the WebSocket calls, the permission checks, the
 * auth-matrix test and docs/openapi.json are all derived from it: adding an operation is a
 * row here, a method on the engine and the client, and a test.
 */
import type { Job, JobLogLine, QueueStats } from '../core/job.ts';
import { LIMITS } from '../core/limits.ts';
import { resolveQueueConfig, type QueueConfigInput } from '../core/queue-config.ts';
import { queueCapacity, type QueueCapacity } from '../model/capacity.ts';
import type { AddItem, BulkAction, JobFilter, JobPage, ListOptions, SpoolClient } from './contract.ts';
import { payloadFilterOf, payloadQuerySchemas, type PayloadQuery } from './payload-query.ts';
import { errorToWire } from '../protocol/wire-errors.ts';
import { receive } from './receive.ts';
import { traceFromHeaders } from '../core/trace-context.ts';
import * as S from './schemas.ts';

/**
 * What a request wants to do. `publish`, `consume` and `admin` are granted by scopes of the
 * same name; `read` (look at a job, a queue's settings, stats or jobs) by `publish` or
 * `consume` on that queue, or by `admin`.
 */
export type Action = 'publish' | 'consume' | 'admin' | 'read';

/** Who is asking: what they may do. */
export interface Access {
  can(action: Action, queue?: string): boolean;
}

/** What an operation runs against: the public contract, plus a pull claim for HTTP receive. */
export interface OperationHost extends SpoolClient {
  /** Leases up to `limit` ready jobs now. */
  claim(queue: string, limit?: number): Promise<Job[]>;
}

/** What the transport gives an operation besides its input. */
export interface OperationContext {
  readonly access: Access;
  /** Ends a long poll when the caller goes away. */
  readonly signal: AbortSignal;
  /** @throws ForbiddenError unless the caller may do `action` on `queue`. */
  authorize(action: Action, queue?: string): void;
  /** For lease batches: the error for each job id whose queue the caller may not consume from. */
  settleDenials(jobIds: readonly string[]): Promise<ReadonlyMap<string, Error>>;
}

/**
 * Where the queue a permission is checked on comes from: the input's `queue`, no queue
 * (admin actions), or the operation checks it itself (the job's queue once it is read;
 * each item of a batch; a listing filtered to what the caller may read).
 */
export type QueueSource = 'input' | 'none' | 'self';

/** An HTTP binding of an operation. */
export interface HttpBinding {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** OpenAPI-style path: `{name}` segments are input fields. */
  path: string;
  /** Success status. Default 200. */
  status?: number;
  /** Input fields read from the query string (their schema's type says how to read them). */
  query?: readonly string[];
  /** The whole body becomes this input field (e.g. a queue's settings); otherwise the body's fields are input fields. */
  bodyAs?: string;
  /** Whether a body is read at all (GET and DELETE take none). */
  body?: boolean;
  /** Shapes the operation's output for this route, with its schema. */
  reply?: { map: (output: unknown) => unknown; schema: S.Schema };
  /** The status for this output when it is not `status` (readiness: 503 when not ready). */
  statusOf?: (output: any) => number;
  /**
   * Input the request's headers give where its body gives none (an add's W3C trace context
   * from `traceparent`/`tracestate`, as HTTP instrumentation sends them).
   */
  fromHeaders?: (headers: Readonly<Record<string, string | string[] | undefined>>, input: Record<string, unknown>) => Record<string, unknown>;
  /** OpenAPI links from this response to other operations (e.g. receive → ack). */
  links?: Record<string, { operationId: string; description: string; requestBody?: unknown }>;
}

export interface Operation<I = any, O = any> {
  /** Stable name: the OpenAPI operationId and the key the clients use. */
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  /** `public` is served without a token (probes, the API description). */
  readonly action: Action | 'public';
  readonly queue: QueueSource;
  /** JSON Schema of the input: unknown fields are refused on every transport. */
  readonly input: S.Schema;
  readonly output: S.Schema;
  readonly http: HttpBinding;
  /** The WebSocket `call` method, or the frame that carries it (described in docs/protocol.md). */
  readonly ws: { call: string } | { frame: string } | null;
  /** Error codes the operation answers with besides the common ones (documented in the OpenAPI responses). */
  readonly errors?: readonly string[];
  /** An input field that is a value of its own (a queue's settings): errors inside it are named relative to it, as the engine names them. */
  readonly inputRoot?: string;
  /**
   * The engine's own check of the input, run when the schema refuses it, so the caller reads
   * the same words from a broker as from an embedded Spool. Throws; returning means it found nothing.
   */
  readonly explain?: (input: any) => void;
  /** The rule to state when the input breaks a combination the schema forbids (oneOf, not). */
  readonly inputRule?: string;
  run(host: OperationHost, input: I, ctx: OperationContext): Promise<O>;
}

const op = <I, O>(o: Operation<I, O>): Operation<I, O> => o;

/** The filters a list or bulk call takes on the wire (flat, so a query string holds them). */
type ListInput = { state?: Job['state']; name?: string; after?: string; limit?: number; createdAfter?: number; createdBefore?: number } & PayloadQuery;
const LIST_FILTER_FIELDS = ['createdAfter', 'createdBefore', 'payloadPath', 'payloadEquals'] as const;

/** List options from wire fields: the payload filter's two fields made one (see payload-query.ts). */
function listOptionsOf({ payloadPath, payloadEquals, ...rest }: ListInput): ListOptions {
  const payload = payloadFilterOf({ payloadPath, payloadEquals });
  return { ...rest, ...(payload ? { payload } : {}) };
}

type QueueInput = { queue: string };
type JobInput = { jobId: string };

const queueIn = { queue: S.queueName };
const jobIn = { jobId: S.jobId };
const listPage: S.Schema = {
  type: 'object', required: ['jobs', 'next'],
  properties: { jobs: { type: 'array', items: S.job }, next: { type: ['string', 'null'], description: 'The `after` of the next page, or null on the last page.' } },
};
const purged: S.Schema = { type: 'object', required: ['purged'], properties: { purged: { type: 'integer' } } };
const named = (config: S.Schema): S.Schema => ({ type: 'object', required: ['name', 'config'], properties: { name: S.queueName, config } });
const results = (value: S.Schema | null): S.Schema => ({ type: 'object', required: ['results'], properties: { results: { type: 'array', items: S.itemResult(value) } } });
const leaseBatch = (extra: Record<string, S.Schema>): S.Schema =>
  S.object({ leases: { type: 'array', minItems: 1, maxItems: LIMITS.claimBatchMax.max, items: S.object({ jobId: S.jobId, token: S.leaseToken, ...extra }, ['jobId', 'token']) } }, ['leases']);

/** Runs one lease operation per item; an item the caller may not settle, or whose lease is stale, fails alone. */
async function settleEach<T extends { jobId: string; token: number }>(items: readonly T[], ctx: OperationContext, run: (item: T) => Promise<unknown>): Promise<{ results: unknown[] }> {
  const denied = await ctx.settleDenials(items.map((i) => i.jobId));
  return {
    results: await Promise.all(items.map(async (item) => {
      try {
        const refusal = denied.get(item.jobId);
        if (refusal) throw refusal;
        const value = await run(item);
        return { jobId: item.jobId, ok: true, ...(value === undefined ? {} : { value }) };
      } catch (err) {
        return { jobId: item.jobId, ok: false, error: errorToWire(err) };
      }
    })),
  };
}

const statsOf = async (host: OperationHost, queue: string): Promise<QueueStats> => (await host.stats(queue))[0]!;

/** An add's jobs that give no `trace` take the one of the request's `traceparent` header, if any. */
function addTraceFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, input: Record<string, unknown>): Record<string, unknown> {
  const trace = traceFromHeaders(headers);
  if (!trace) return input;
  if (Array.isArray(input.jobs)) {
    return { ...input, jobs: input.jobs.map((j: unknown) => (typeof j === 'object' && j !== null && !Array.isArray(j) && !('trace' in j) ? { ...j, trace } : j)) };
  }
  return 'trace' in input || 'jobs' in input ? input : { ...input, trace };
}

/** Every operation, in the order the API description lists them. */
export const OPERATIONS = [
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
    http: { method: 'POST', path: '/v1/queues/{queue}/jobs', status: 201, fromHeaders: addTraceFromHeaders },
    ws: { frame: 'publish' },
    inputRule: 'send "payload" (one job, with its options beside it) or "jobs" (a batch, options inside each job), not both; and delayMs or runAt, not both',
    errors: ['PAYLOAD_TOO_LARGE'],
    async run(host, { queue, jobs, payload, ...options }) {
      if (jobs) return { jobs: await host.addMany(queue, jobs) };
      const { queue: _q, ...rest } = options as Record<string, unknown>;
      return host.add(queue, payload, rest);
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
  op<QueueInput & ListInput, JobPage>({
    name: 'listJobs', summary: "A page of a queue's jobs in id (creation) order; pass `next` as `after` for the next page",
    description: 'Filters: state, name, a creation time range (createdAfter, createdBefore: Unix ms, both inclusive) and a payload field '
      + '(payloadPath, payloadEquals). A payload filter has no index: one call examines at most searchScanMax jobs, and `next` is where '
      + 'that scan stopped, so a page may be short, or empty, while `next` is not null. Go on until `next` is null.',
    action: 'read', queue: 'input',
    input: S.object({ ...queueIn, state: S.jobState, name: S.jobName, after: S.jobId, ...payloadQuerySchemas, limit: S.bounded('listLimit') }, ['queue']),
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
      ...queueIn, action: { type: 'string', enum: ['retry', 'cancel', 'delete'] }, state: S.jobState, name: S.jobName, ...payloadQuerySchemas,
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
  op<QueueInput & { max?: number; waitMs?: number }, { jobs: Job[] }>({
    name: 'receive',
    summary: 'Lease up to `max` jobs, waiting up to `waitMs` for the first (long poll)',
    description: 'Each job carries `id` and `leaseToken`: settle it with ack, nack or extend before `leaseExpiresAt`.',
    action: 'consume', queue: 'input',
    input: S.object({ ...queueIn, max: { type: 'integer', minimum: 1, maximum: LIMITS.claimBatchMax.max, description: 'Default 1.' }, waitMs: S.bounded('receiveWaitMaxMs', 'How long to wait for a first job; at most the broker\'s receiveWaitMaxMs.') }, ['queue']),
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
    run: async (host, { queue, max, waitMs }, ctx) => ({ jobs: await receive(host, queue, max ?? 1, waitMs ?? 0, ctx.signal) }),
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
  op<{ history?: boolean }, unknown>({
    name: 'overview', summary: "Every queue's stats with its live queueing model (λ, μ, ρ, L, W), and the consumers; `history=true` adds the last hour",
    description: 'Measured by the broker that answers, over a sliding window; aggregated at most once a second however often it is asked. Lists the queues the caller may read.',
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

export type OperationName = (typeof OPERATIONS)[number]['name'];

/** The operations by name. */
export const OPERATION: Readonly<Record<OperationName, Operation>> = Object.fromEntries(OPERATIONS.map((o) => [o.name, o])) as never;

/** The operations a WebSocket `call` frame may name, by method. */
export const WS_CALLS: ReadonlyMap<string, Operation> = new Map(
  OPERATIONS.flatMap((o) => (o.ws && 'call' in o.ws ? [[o.ws.call, o as Operation] as const] : [])),
);
