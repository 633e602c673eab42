/**
 * JSON Schemas of what the API takes and returns. The operations table (operations.ts)
 * uses them to check input on every transport and to describe each operation in the
 * OpenAPI document; the bounds come from the limits table, so the document states every
 * constraint the engine enforces.
 */
import { JOB_ID_PATTERN } from '../core/ids.ts';
import { JOB_STATES } from '../core/job.ts';
import { RESOURCE_TAG_PATTERN } from '../core/resource-tags.ts';
import { LIMITS, type LimitName } from '../core/limits.ts';
import { JOB_NAME_MAX, QUEUE_NAME_PATTERN } from '../core/validate.ts';
import { SCHEDULING_POLICIES } from '../core/queue-config.ts';
import { TRACEPARENT_PATTERN, TRACESTATE_MAX, TRACESTATE_PATTERN } from '../core/trace-context.ts';

/** A JSON Schema (the subset Spool writes: 2020-12 keywords). */
export type Schema = Readonly<Record<string, unknown>>;

/** An integer setting with the bounds of its limit, e.g. `bounded('delayMs')`. */
export function bounded(name: LimitName, description: string = LIMITS[name].doc): Schema {
  const b = LIMITS[name];
  return { type: 'integer', minimum: b.min, maximum: b.max, description: `${description} Default ${b.default}.` };
}

/** An object with exactly these properties: unknown ones are refused. */
export function object(properties: Record<string, Schema>, required: readonly string[] = [], extra: Schema = {}): Schema {
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false, ...extra };
}

export const queueName: Schema = {
  type: 'string', pattern: QUEUE_NAME_PATTERN, minLength: 1, maxLength: 128,
  description: "1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit.",
};
export const jobId: Schema = { type: 'string', pattern: JOB_ID_PATTERN, description: 'A job id (UUIDv7, lowercase).' };
export const jobName: Schema = { type: 'string', minLength: 1, maxLength: JOB_NAME_MAX, description: 'Job name: well-formed text without U+0000. Default "default".' };
export const jobGroup: Schema = {
  type: 'string', minLength: 1, maxLength: JOB_NAME_MAX,
  description: 'The group (tenant, customer) of the job: 1–128 characters of well-formed text without U+0000, as a job name.',
};
export const jobState: Schema = { type: 'string', enum: JOB_STATES };
export const leaseToken: Schema = { type: 'integer', minimum: 1, description: 'The lease token of the delivery (`leaseToken` of the delivered job).' };
/**
 * Any JSON value. Strings may not hold U+0000 or unpaired surrogates, and JSON has no NaN
 * or Infinity; such values are refused with INVALID_ARGUMENT naming the path.
 */
export const anyJson: Schema = { description: 'Any JSON value, without U+0000 or unpaired surrogates in its strings.' };

/** A W3C trace context, as a job carries it (core/trace-context.ts checks the same rules). */
export const jobTrace: Schema = {
  type: ['object', 'null'],
  properties: {
    traceparent: {
      type: 'string', pattern: TRACEPARENT_PATTERN,
      description: 'W3C traceparent: 00-<trace id, 32 hex>-<parent id, 16 hex>-<flags, 2 hex>, lowercase, ids not all zeros.',
    },
    tracestate: { type: 'string', maxLength: TRACESTATE_MAX, pattern: TRACESTATE_PATTERN, description: `W3C tracestate: printable ASCII, at most ${TRACESTATE_MAX} characters.` },
  },
  // No `required`: the schema check would report a missing traceparent before an unknown field, so
  // `traceparnt` would read "traceparent is required" instead of naming the nearest; the engine
  // (behind every transport) refuses a missing traceparent instead, naming `trace.traceparent`.
  additionalProperties: false,
  description: "The W3C trace context of the span that added the job (null: none): a worker's `process` span links to it. `traceparent` is required.",
};

/** An add's idempotency key (AddOptions.idempotencyKey). */
export const idempotencyKey: Schema = {
  type: 'string', minLength: 1, maxLength: 128,
  description: 'Makes the add idempotent: 1–128 characters of well-formed text without U+0000. Another add to the same queue with this key within the store\'s `idempotencyWindowMs` (a `Spool.open` option, default 24 h) stores nothing and answers with the job the key created (same id, its current state). Past the window the same key adds a new job. The TypeScript client sends a fresh one with every add that has none.',
};

/** An add's unique key (AddOptions.uniqueKey). */
export const uniqueKey: Schema = {
  type: 'string', minLength: 1, maxLength: 128,
  description: 'Deduplicates the job: 1–128 characters of well-formed text without U+0000. While a job of the queue with this key is live (scheduled, ready or active), an add with the key stores nothing and answers with that job, marked `duplicate: true` (HTTP status 201 all the same). Once it completed, died, was cancelled or deleted, the key is free. Unlike `idempotencyKey`, it holds for as long as the job is live, not for a time window, and a finished job no longer holds it.',
};

/** The options of one add. `delayMs` and `runAt` exclude each other. */
/** A list of resource tags (a job's `requires`, a worker's `tags`). */
export const resourceTags = (description: string): Schema => ({
  type: 'array', maxItems: LIMITS.resourceTagsMax.max, items: { type: 'string', pattern: RESOURCE_TAG_PATTERN }, description,
});

export const addOptions: Record<string, Schema> = {
  name: jobName,
  priority: bounded('priority'),
  delayMs: bounded('delayMs'),
  runAt: { type: 'integer', minimum: 0, description: 'Run no sooner than this time (Unix ms); at most delayMs.max ahead. Give delayMs or runAt, not both.' },
  maxAttempts: bounded('maxAttempts', 'Attempts before the job is dead; the queue\'s setting when absent.'),
  timeoutMs: bounded('timeoutMs', 'Longest one attempt may run (0: no limit); the queue\'s setting when absent.'),
  trace: { ...jobTrace, description: "The W3C trace context the job carries (`traceparent` required): its worker's `process` span links to it. Absent: the span active in the broker while it handles the request, if any; null: none." },
  group: { ...jobGroup, description: 'The group (tenant, customer) the job belongs to: 1–128 characters of well-formed text without U+0000, as a job name. Absent: none (the job\'s `group` is null). Listings and bulk actions filter by it.' },
  idempotencyKey: idempotencyKey,
  ttlMs: bounded('ttlMs', 'Time to live (0: none): a job not started (first leased) within this many ms of its add is never run; it becomes dead with deadReason `expired`. Retries of a started job are not affected.'),
  cost: {
    type: 'number', exclusiveMinimum: 0, maximum: LIMITS.cost.max,
    description: `The job's expected run time in ms: a positive number (fractions allowed), at most ${LIMITS.cost.max}. A queue with policy \`sjf\` serves cheaper jobs first; absent, that queue uses its learned estimate for the job's name.`,
  },
  uniqueKey: uniqueKey,
  uniqueWindowMs: bounded('uniqueWindowMs', 'With `uniqueKey`: how long after its add the job holds its key even once finished (completed, dead, cancelled), so no job with the key is added again within it. 0 (default): only while it is scheduled, ready or active.'),
  concurrencyKey: { ...jobGroup, description: "The key the queue limits concurrency by (a tenant, a customer): 1–128 characters of well-formed text without U+0000, as a group. While the queue's `concurrencyLimit` (or its `concurrencyLimits` entry for the key) of jobs with this key are active, no other starts. Absent: none (not limited)." },
  requires: resourceTags("The resource tags a worker must carry to take the job (e.g. `[\"gpu\", \"region:eu\"]`): only a worker whose `tags` include every one leases it. Stored without repeats, sorted. Absent or empty: any worker."),
};
const notBoth: Schema = { not: { required: ['delayMs', 'runAt'] } };

/** One job to add: its payload and options. */
export const addItem: Schema = object({ payload: anyJson, ...addOptions }, ['payload'], notBoth);

export const backoff: Schema = object({
  type: { type: 'string', enum: ['fixed', 'exponential'] },
  delayMs: bounded('backoffDelayMs'),
  maxDelayMs: bounded('backoffMaxDelayMs'),
});

const limiterName: Schema = {
  type: ['string', 'null'], pattern: QUEUE_NAME_PATTERN, minLength: 1, maxLength: 128,
  description: "A bucket several queues share (1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit); every queue naming it must give the same rate, perMs and burst. Null or absent: the queue's own bucket.",
};

/** A queue's rate limit as given: replaces the current one whole; null removes it. */
export const rateLimitInput: Schema = {
  type: ['object', 'null'],
  properties: {
    rate: { ...bounded('rateLimitRate'), description: LIMITS.rateLimitRate.doc },
    perMs: bounded('rateLimitPerMs'),
    burst: { ...bounded('rateLimitBurst'), description: `${LIMITS.rateLimitBurst.doc}` },
    limiter: limiterName,
  },
  additionalProperties: false,
  description: 'A token bucket on the starts of the queue\'s jobs (`rate` required); jobs over it stay queued. Replaces the current limit whole; null removes it.',
};

/** A per-key rate limit as given (`keyRateLimit`, an entry of `keyRateLimits`): replaced whole. */
const keyRateLimitFields: Schema = {
  type: 'object',
  required: ['rate'],
  properties: {
    rate: { ...bounded('rateLimitRate'), description: "Jobs of one key admitted per perMs, on average (the key's token bucket, refilled continuously)." },
    perMs: bounded('rateLimitPerMs'),
    burst: { ...bounded('rateLimitBurst'), description: "The key's bucket size; left out, it is `rate`. Over any perMs, at most rate + burst jobs of the key start." },
  },
  additionalProperties: false,
};

/** The settings a caller may change; anything left out keeps its value. */
export const queueConfigInput: Schema = object({
  visibilityTimeoutMs: bounded('visibilityTimeoutMs'),
  maxAttempts: bounded('maxAttempts'),
  maxStalls: bounded('maxStalls'),
  backoff,
  timeoutMs: bounded('timeoutMs'),
  rateLimit: rateLimitInput,
  maxLength: { type: ['integer', 'null'], minimum: LIMITS.maxLength.min, maximum: LIMITS.maxLength.max, description: `${LIMITS.maxLength.doc} Default null.` },
  overflow: { enum: ['reject', 'drop-oldest'], description: "What an add to the queue when it holds maxLength waiting jobs does: 'reject' (429 QUEUE_FULL, the default) or 'drop-oldest' (the oldest waiting jobs become dead, deadReason `dropped`)." },
  policy: { type: 'string', enum: SCHEDULING_POLICIES, description: 'How ready jobs are ordered: `fifo` (the default: priority, then ready time), `priority` (priority with aging), `sjf` (shortest job first, by cost) or `fair` (fair share across groups). See docs/scheduling.md.' },
  agingMs: bounded('agingMs'),
  sjfCostFactor: bounded('sjfCostFactor'),
  sjfLearnPct: bounded('sjfLearnPct'),
  fairWeights: {
    type: 'object', maxProperties: LIMITS.fairWeightsMax.max,
    additionalProperties: { type: 'integer', minimum: LIMITS.fairWeight.min, maximum: LIMITS.fairWeight.max },
    description: `Policy \`fair\`: the weight of each group named (an integer ${LIMITS.fairWeight.min}–${LIMITS.fairWeight.max}; others weigh 1), at most ${LIMITS.fairWeightsMax.max} groups. Replaces the whole map.`,
  },
  concurrencyLimit: { type: ['integer', 'null'], minimum: LIMITS.concurrencyLimit.min, maximum: LIMITS.concurrencyLimit.max, description: `${LIMITS.concurrencyLimit.doc} Default null.` },
  concurrencyLimits: {
    type: 'object', maxProperties: LIMITS.concurrencyLimitsMax.max,
    additionalProperties: { type: 'integer', minimum: 1, maximum: LIMITS.concurrencyLimit.max },
    description: `The limit of each concurrency key named (an integer 1–${LIMITS.concurrencyLimit.max}), instead of concurrencyLimit; at most ${LIMITS.concurrencyLimitsMax.max} keys. Replaces the whole map.`,
  },
  groupFifo: { type: 'boolean', description: "FIFO per message group: at most one job of a `group` active at once, and a group's jobs start in the order they were added (a job waiting for a retry holds its group back). Default false." },
  keyRateLimit: {
    ...keyRateLimitFields, type: ['object', 'null'],
    description: "A token bucket per job key (the job's `concurrencyKey`): a job starts only with a token of its key's bucket; jobs over it stay queued. Jobs without a key are not limited. Replaces the current limit whole; null (the default) removes it.",
  },
  keyRateLimits: {
    type: 'object', maxProperties: LIMITS.keyRateLimitsMax.max,
    additionalProperties: keyRateLimitFields,
    description: `The rate limit of each key named, instead of keyRateLimit; at most ${LIMITS.keyRateLimitsMax.max} keys. Replaces the whole map.`,
  },
  labels: {
    type: 'object', maxProperties: LIMITS.queueLabelsMax.max, propertyNames: { minLength: 1, maxLength: 128 },
    additionalProperties: { type: 'string', maxLength: 256 },
    description: `Free-form labels (name → text, at most ${LIMITS.queueLabelsMax.max}; names 1–128 characters, texts at most 256, without control characters). The SQS endpoint keeps queue tags and SQS-only attributes here (docs/sqs.md). Replaces the whole map.`,
  },
});

export const queueConfig: Schema = {
  type: 'object',
  required: ['visibilityTimeoutMs', 'maxAttempts', 'maxStalls', 'backoff', 'timeoutMs', 'maxLength', 'overflow', 'policy', 'agingMs', 'sjfCostFactor', 'sjfLearnPct', 'fairWeights', 'concurrencyLimit', 'concurrencyLimits', 'groupFifo', 'labels'],
  properties: {
    visibilityTimeoutMs: { type: 'integer' }, maxAttempts: { type: 'integer' }, maxStalls: { type: 'integer' }, timeoutMs: { type: 'integer' },
    maxLength: { type: ['integer', 'null'], description: 'Most jobs waiting to start (ready and scheduled); null: no bound.' },
    overflow: { enum: ['reject', 'drop-oldest'] },
    policy: { enum: SCHEDULING_POLICIES }, agingMs: { type: 'integer' }, sjfCostFactor: { type: 'integer' }, sjfLearnPct: { type: 'integer' },
    fairWeights: { type: 'object', additionalProperties: { type: 'integer' } },
    concurrencyLimit: { type: ['integer', 'null'], description: 'Most active jobs of one concurrency key; null: none.' },
    concurrencyLimits: { type: 'object', additionalProperties: { type: 'integer' }, description: 'The limits of the keys named.' },
    groupFifo: { type: 'boolean', description: 'At most one job of a group active, started in add order.' },
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Free-form labels (name → text).' },
    backoff: { type: 'object', required: ['type', 'delayMs'], properties: { type: { enum: ['fixed', 'exponential'] }, delayMs: { type: 'integer' }, maxDelayMs: { type: 'integer' } } },
    rateLimit: {
      type: ['object', 'null'], required: ['rate', 'perMs', 'burst', 'limiter'],
      properties: { rate: { type: 'integer' }, perMs: { type: 'integer' }, burst: { type: 'integer' }, limiter: { type: ['string', 'null'] } },
      description: 'The rate limit (null: none).',
    },
    keyRateLimit: { type: ['object', 'null'], properties: { rate: { type: 'integer' }, perMs: { type: 'integer' }, burst: { type: 'integer' } }, description: 'The rate limit of each job key (null: none).' },
    keyRateLimits: { type: 'object', additionalProperties: { type: 'object', properties: { rate: { type: 'integer' }, perMs: { type: 'integer' }, burst: { type: 'integer' } } }, description: 'The rate limits of the keys named.' },
  },
};

const nullableInt: Schema = { type: ['integer', 'null'] };
const attempt: Schema = {
  type: 'object',
  required: ['attempt', 'token', 'startedAt', 'endedAt', 'outcome'],
  properties: {
    attempt: { type: 'integer' }, token: { type: 'integer' }, startedAt: { type: 'integer' }, endedAt: { type: 'integer' },
    outcome: { enum: ['completed', 'failed', 'expired', 'released', 'cancelled'] }, error: { type: 'string' },
  },
};

/** A job without its payload, as a publish confirm carries it (the client has the payload). */
const jobFields: Record<string, Schema> = {
  id: jobId, queue: queueName, name: { type: 'string' }, priority: { type: 'integer' }, state: jobState,
  runAt: { type: 'integer' }, attempt: { type: 'integer' }, maxAttempts: { type: 'integer' }, stalls: { type: 'integer' },
  maxStalls: { type: 'integer' }, leaseToken: { type: 'integer', description: 'The current lease token; 0 = never delivered. An ack must carry it.' },
  leaseExpiresAt: nullableInt, createdAt: { type: 'integer' }, updatedAt: { type: 'integer' }, finishedAt: nullableInt,
  lastError: { type: ['string', 'null'] }, result: anyJson, deadReason: { enum: ['max-attempts', 'poison', 'unrecoverable', 'expired', 'dropped', 'child-failed', null] },
  history: { type: 'array', items: attempt },
  timeoutMs: { type: 'integer', description: 'Longest one attempt may run, in ms; 0: no limit.' },
  progress: { ...anyJson, description: 'The last value a handler reported with job.progress(), or null.' },
  trace: jobTrace,
  group: { type: ['string', 'null'], description: 'The group (tenant, customer) the job was added with; null: none.' },
  expiresAt: { ...nullableInt, description: 'When the job must have started by (Unix ms: its add plus `ttlMs`); null: no TTL. Not started by then, it is dead (deadReason `expired`).' },
  cost: { type: ['number', 'null'], description: 'The cost the job was added with (its expected run time in ms); null: none.' },
  duplicate: { const: true, description: 'Only in the answer of an add: the add stored nothing, because this live job (scheduled, ready or active) holds its `uniqueKey`.' },
  concurrencyKey: { type: ['string', 'null'], description: 'The concurrency key the job was added with; null: none.' },
  requires: { type: 'array', items: { type: 'string' }, description: 'The resource tags a worker must carry to take the job, sorted; empty: any worker.' },
  childResults: {
    type: 'array', description: "Only on the parent of a flow (docs/flows.md), once its children have finished: how each ended, in the order they were given, with what its handler returned (completed) and its last error (dead, cancelled; `deleted` for a deleted child).",
    items: object({ id: jobId, queue: queueName, name: { type: 'string' }, state: { enum: ['completed', 'dead', 'cancelled', 'deleted'] }, result: anyJson, error: { type: ['string', 'null'] } }, ['id', 'queue', 'name', 'state', 'result', 'error']),
  },
};

/** The lines a job's handlers wrote with job.log(), oldest first. */
export const jobLogs: Schema = {
  type: 'object', required: ['lines'],
  properties: {
    lines: {
      type: 'array',
      items: { type: 'object', required: ['at', 'attempt', 'line'], properties: { at: { type: 'integer' }, attempt: { type: 'integer' }, line: { type: 'string' } } },
    },
  },
};
export const job: Schema = { type: 'object', required: ['id', 'queue', 'name', 'payload', 'state', 'leaseToken'], properties: { ...jobFields, payload: anyJson } };

export const queueStats: Schema = {
  type: 'object',
  required: ['queue', 'counts', 'oldestReadyAgeMs', 'paused', 'length', 'maxLength', 'overflow', 'unservable'],
  properties: {
    queue: queueName,
    counts: { type: 'object', required: [...JOB_STATES], properties: Object.fromEntries(JOB_STATES.map((s) => [s, { type: 'integer' }])) },
    oldestReadyAgeMs: { type: 'integer' },
    paused: { type: 'boolean' },
    heldUntil: {
      type: ['integer', 'null'],
      description: 'Only for a queue with a rate limit: while the limit holds ready jobs back (no token left), when its next token is due (Unix ms); null while it holds nothing back.',
    },
    length: { type: 'integer', description: "Jobs waiting to start (ready and scheduled): what the queue's maxLength bounds." },
    maxLength: { type: ['integer', 'null'], description: "The queue's bound (its maxLength setting); null: none." },
    overflow: { enum: ['reject', 'drop-oldest'], description: 'What an add to the full queue does.' },
    unservable: {
      type: 'integer', minimum: 0,
      description: "Ready jobs no live worker can take: their `requires` are not all among the tags of any worker consuming the queue in a live process (registration renewed within its heartbeat bound). Jobs without `requires` never count; 0 when every ready job can be taken.",
    },
  },
};

const rate = (description: string): Schema => ({ type: 'number', minimum: 0, description });
const nullableNumber = (description: string): Schema => ({ type: ['number', 'null'], description });

/** The live queueing model of one queue (src/model/overview.ts says what each number is). */
export const queueModel: Schema = {
  type: 'object',
  required: ['windowMs', 'arrivalRate', 'completionRate', 'failureRate', 'deadRate', 'serviceTimeMs', 'workers', 'utilisation', 'length', 'meanWaitMs', 'drainEtaMs', 'dropRate', 'dropped'],
  properties: {
    windowMs: { type: 'integer', description: 'The window the rates are measured over.' },
    arrivalRate: rate('λ: jobs added per second.'),
    completionRate: rate('μ: jobs completed per second.'),
    failureRate: rate('Failed attempts per second.'),
    deadRate: rate('Jobs that went dead per second (dead letters added).'),
    serviceTimeMs: nullableNumber('Mean handler run time per finished attempt.'),
    workers: { type: 'integer', description: 'c: worker slots consuming the queue through every live process sharing the store.' },
    utilisation: nullableNumber('ρ = λ·S / c.'),
    length: { type: 'integer', description: 'L: ready and active jobs.' },
    meanWaitMs: nullableNumber("W: mean time from add to completion in the window (Little's law's L / λ when nothing completed)."),
    drainEtaMs: nullableNumber('Time to drain the ready jobs at the current rates; null when they grow.'),
    dropRate: rate('Waiting jobs dropped per second by adds to the full queue (maxLength, overflow drop-oldest).'),
    dropped: { type: 'integer', description: 'Waiting jobs dropped by adds to the full queue so far, over every process sharing the store.' },
  },
};

/** The capacity answer of one queue (src/model/capacity.ts says what each number is). */
export const queueCapacity: Schema = {
  type: 'object',
  required: ['queue', 'at', 'windowMs', 'arrivalRate', 'serviceTimeMs', 'workers', 'utilisation', 'overloaded', 'predictedWaitMs', 'targetWaitMs', 'workersNeeded', 'assumptions'],
  properties: {
    queue: queueName,
    at: { type: 'integer', description: 'When the overview the model comes from was aggregated (Unix ms).' },
    windowMs: { type: 'integer', description: 'The window λ and S were measured over; 0 for a queue newer than the last aggregation.' },
    arrivalRate: rate('λ: jobs added per second.'),
    serviceTimeMs: nullableNumber('S: mean handler run time per finished attempt; null before one finished in the window.'),
    workers: { type: 'integer', description: 'c: worker slots consuming the queue through every live process sharing the store now.' },
    utilisation: nullableNumber('ρ = λ·S / c.'),
    overloaded: { type: 'boolean', description: 'λ·S ≥ c with jobs arriving (or no workers): the wait grows without bound.' },
    predictedWaitMs: nullableNumber("Wq: mean wait before start with today's workers, by M/M/c; null when overloaded, without workers, or without S while jobs arrive."),
    targetWaitMs: { type: 'integer', description: 'The target mean wait before start.' },
    workersNeeded: { type: ['integer', 'null'], minimum: 0, description: 'The fewest workers with Wq ≤ targetWaitMs: 0 when nothing arrives; null without S, or beyond 10,000.' },
    assumptions: { type: 'string', description: "The model's assumptions, to show beside its numbers." },
  },
};

const series: Schema = { type: 'array', items: { type: 'number' } };

/** Every queue with its model, the consumers, and (asked for) an hour of history. */
export const overview: Schema = {
  type: 'object',
  required: ['at', 'queues', 'consumers', 'processes', 'alerts'],
  properties: {
    at: { type: 'integer' },
    processes: {
      type: 'array', description: 'The live processes sharing the store (brokers, programs with Spool embedded), the one answering first.',
      items: {
        type: 'object', required: ['id', 'host', 'pid', 'lastSeenAt', 'leader', 'consumers'],
        properties: {
          id: { type: 'string' }, host: { type: 'string' }, pid: { type: 'integer' }, lastSeenAt: { type: 'integer', description: 'When it last published its snapshot.' },
          leader: { type: 'boolean', description: "Whether it led the store's upkeep at its last tick (PostgreSQL: one process; SQLite: each process with maintenance)." },
          consumers: { type: 'integer', description: 'Consumers connected to it.' },
        },
      },
    },
    alerts: {
      type: 'array', description: 'Every alert rule on a queue the caller may read, and where it stands as the leader last evaluated it (see `GET /v1/alerts`).',
      items: {
        type: 'object', required: ['id', 'queue', 'kind', 'threshold', 'forMs', 'state', 'since', 'value', 'evaluatedAt'],
        properties: {
          id: { type: 'string' }, queue: queueName, kind: { type: 'string' }, threshold: { type: 'number' }, forMs: { type: 'integer' },
          state: { type: 'string', enum: ['ok', 'pending', 'firing'] }, since: { type: ['integer', 'null'] }, value: { type: ['number', 'null'] }, evaluatedAt: { type: ['integer', 'null'] },
        },
      },
    },
    queues: { type: 'array', items: { type: 'object', required: [...(queueStats.required as string[]), 'model'], properties: { ...(queueStats.properties as Record<string, Schema>), model: queueModel } } },
    consumers: {
      type: 'array',
      items: {
        type: 'object', required: ['id', 'client', 'tags', 'address', 'queues', 'connectedAt', 'lastSeenAt', 'process'],
        description: 'A consumer connected to any of the processes sharing the store (each publishes its own about once a second).',
        properties: {
          id: { type: 'string' }, client: { type: 'string' }, address: { type: 'string' },
          tags: { type: 'object', additionalProperties: { type: 'string' }, description: 'The tags the client gave itself in hello (`Spool.connect({ tags })`); empty for in-process workers.' }, connectedAt: { type: 'integer' }, lastSeenAt: { type: 'integer' },
          queues: { type: 'array', items: { type: 'object', required: ['queue', 'slots', 'inFlight'], properties: { queue: queueName, slots: { type: 'integer' }, inFlight: { type: 'integer' } } } },
          process: {
            type: 'object', required: ['id', 'host', 'pid'], description: 'The Spool process (broker) it is connected to.',
            properties: { id: { type: 'string' }, host: { type: 'string' }, pid: { type: 'integer' } },
          },
        },
      },
    },
    history: {
      type: 'object', required: ['stepMs', 'at', 'queues'],
      properties: {
        stepMs: { type: 'integer' }, at: series,
        queues: { type: 'object', additionalProperties: { type: 'object', required: ['ready', 'active', 'arrivalRate', 'completionRate', 'failureRate'], properties: { ready: series, active: series, arrivalRate: series, completionRate: series, failureRate: series } } },
      },
    },
  },
};

export const error: Schema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  description: 'A stable `code`, a message for people, and the fields of the error (`field`, `jobId`, `currentState`, `currentToken`, `scope`, …).',
};

export const lease: Schema = object({ jobId, token: leaseToken }, ['jobId', 'token']);

/** The outcome of one item of a batch: ok with the operation's value, or that item's error. */
export function itemResult(value: Schema | null): Schema {
  return {
    oneOf: [
      { type: 'object', required: ['jobId', 'ok'], properties: { jobId: { type: 'string' }, ok: { const: true }, ...(value ? { value } : {}) } },
      { type: 'object', required: ['jobId', 'ok', 'error'], properties: { jobId: { type: 'string' }, ok: { const: false }, error } },
    ],
  };
}

/** The schemas the OpenAPI document names under `components.schemas` (found by identity). */
export const COMPONENTS: Readonly<Record<string, Schema>> = {
  Job: job, QueueStats: queueStats, QueueConfig: queueConfig, QueueConfigInput: queueConfigInput, Error: error, AddItem: addItem, Lease: lease,
};
