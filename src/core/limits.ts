import { InvalidArgumentError } from './errors.ts';

/** One bounded setting: its default and the range it is validated against. */
export interface Bound {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** One line for docs/configuration.md and error messages. */
  readonly doc: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Every limit Spool enforces, in one place. Units are last in the names.
 * docs/configuration.md is checked against this table by a test.
 */
export const LIMITS = {
  payloadMaxBytes: { default: 1 * MiB, min: 1 * KiB, max: 64 * MiB, doc: 'Largest job payload, measured as UTF-8 JSON.' },
  resultMaxBytes: { default: 1 * MiB, min: 1 * KiB, max: 64 * MiB, doc: 'Largest handler result stored with a completed job.' },
  errorMaxBytes: { default: 8 * KiB, min: 256, max: 1 * MiB, doc: 'Longest error message kept per attempt; longer ones are cut.' },
  flowChildrenMax: { default: 100, min: 1, max: 1000, doc: 'Most children one flow (`addFlow`) may have; its parent, its children and the flow are written in one transaction, and the parent\'s `childResults` hold a result per child.' },
  addManyMax: { default: 10_000, min: 1, max: 100_000, doc: 'Most jobs in one addMany call.' },
  priority: { default: 0, min: -1_000_000, max: 1_000_000, doc: 'Job priority; higher runs first.' },
  delayMs: { default: 0, min: 0, max: 10 * 365 * DAY, doc: 'How far in the future a job may be scheduled.' },
  visibilityTimeoutMs: { default: 30 * SECOND, min: 100, max: 12 * HOUR, doc: 'Lease length: how long a delivered job stays invisible before it is redelivered. Workers extend it while the handler runs.' },
  maxAttempts: { default: 5, min: 1, max: 1000, doc: 'Attempts (failed or lease expired) before a job is dead. Released attempts do not count.' },
  maxStalls: { default: 3, min: 1, max: 100, doc: 'Lease expiries before a job is dead-lettered as a poison job.' },
  backoffDelayMs: { default: 1 * SECOND, min: 0, max: 1 * DAY, doc: 'Base retry delay.' },
  backoffMaxDelayMs: { default: 1 * HOUR, min: 0, max: 30 * DAY, doc: 'Largest retry delay exponential backoff reaches.' },
  concurrency: { default: 1, min: 1, max: 10_000, doc: 'Handlers one worker runs at once (its in-flight jobs).' },
  claimBatchMax: { default: 256, min: 1, max: 10_000, doc: 'Most jobs one claim takes from the store.' },
  claimsInFlightMax: { default: 1, min: 1, max: 16, doc: "Most claims of one queue a process has on their way to the store at once. Above 1, a job added while a claim is on its way is claimed by the next at once, and claims ask for about what the last one found: for a store far away (PostgreSQL across a network), where a claim's round trip is long." },
  shutdownTimeoutMs: { default: 30 * SECOND, min: 0, max: 1 * HOUR, doc: 'How long a graceful worker stop waits for running handlers before releasing their jobs.' },
  maintenanceIntervalMs: { default: 1 * SECOND, min: 10, max: 1 * MINUTE, doc: 'How often expired leases are reaped and due jobs promoted.' },
  settingsRefreshMs: { default: 1 * SECOND, min: 0, max: 1 * MINUTE, doc: "How long a process trusts a queue's settings and paused flag before reading them again: a change made through another process (or broker) is obeyed everywhere within this time." },
  pollIntervalMs: { default: 1 * SECOND, min: 10, max: 1 * MINUTE, doc: 'Fallback poll for jobs written by other processes while consumers wait.' },
  completedRetentionMs: { default: 1 * DAY, min: 0, max: 365 * DAY, doc: 'How long completed jobs are kept.' },
  deadRetentionMs: { default: 14 * DAY, min: 0, max: 3650 * DAY, doc: 'How long dead jobs are kept for inspection and redrive.' },
  cancelledRetentionMs: { default: 1 * DAY, min: 0, max: 365 * DAY, doc: 'How long cancelled jobs are kept.' },
  timeoutMs: { default: 0, min: 0, max: 7 * DAY, doc: 'Longest one attempt of a job may run before its handler is aborted and the attempt fails with a timeout (0: no limit). A job option and a queue setting.' },
  ttlMs: { default: 0, min: 0, max: 365 * DAY, doc: "Longest a job may wait to start (its first lease) after its add, from the `ttlMs` add option: past it, a job not yet started is never run but dead (deadReason `expired`); 0, the default: no limit. Once started, retries are not affected." },
  agingMs: { default: 1 * MINUTE, min: 1, max: 1 * DAY, doc: "Queue setting, policy `priority`: how long a waiting job waits to gain one priority level. A job of priority p that has waited w ms is served as one of priority p + w / agingMs, so a job waits at most (the highest priority waiting − its own) × agingMs behind jobs added after it." },
  sjfCostFactor: { default: 10, min: 1, max: 10_000, doc: "Queue setting, policy `sjf`: how many ms of waiting one ms of a job's cost is worth. A job is served as if it became ready cost × sjfCostFactor ms later, so it waits at most (its cost − a shorter job's cost) × sjfCostFactor behind shorter jobs that became ready after it." },
  sjfLearnPct: { default: 20, min: 1, max: 100, doc: "Queue setting, policy `sjf`: the weight, in percent, of a job's newest run time in the queue's estimate for its name (an exponentially weighted mean), which stands in for the cost of jobs added without one." },
  cost: { default: 0, min: 0, max: 1 * DAY, doc: "Add option `cost`: the job's expected run time in ms, a positive number (fractions allowed) up to this; a queue with policy `sjf` serves cheaper jobs first. Left out (0 here), the queue's learned estimate for the job's name stands in." },
  fairWeight: { default: 1, min: 1, max: 1000, doc: "Queue setting, policy `fair`: a group's weight in `fairWeights` (an integer; a group left out, and jobs without a group, weigh 1). While they all wait, a group of weight 2 is served twice as often as one of weight 1." },
  fairWeightsMax: { default: 1000, min: 0, max: 1000, doc: 'Queue setting, policy `fair`: most groups `fairWeights` may name.' },
  drainedWaitMs: { default: 30 * SECOND, min: 0, max: 1 * HOUR, doc: "How long `queue.drained()` (and `spool wait`) waits for a queue to have nothing ready, scheduled or active before it fails with a timeout, unless given its own `timeoutMs`." },
  requestWaitMs: { default: 30 * SECOND, min: 0, max: 1 * HOUR, doc: "How long `request()` and `waitJob()` wait for a job to finish (completed, dead or cancelled) before they fail with a JobWaitTimeoutError, unless given their own `timeoutMs`. The job is not cancelled." },
  progressMaxBytes: { default: 4 * KiB, min: 64, max: 1 * MiB, doc: "Largest value `job.updateProgress()` stores, as UTF-8 JSON." },
  jobLogMax: { default: 100, min: 0, max: 1000, doc: 'Log lines (`job.log()`) kept per job; older lines are dropped first.' },
  jobLogLineMaxBytes: { default: 2 * KiB, min: 64, max: 16 * KiB, doc: 'Longest log line kept; longer lines are cut.' },
  historyMax: { default: 50, min: 5, max: 1000, doc: 'Attempt records kept per job (oldest dropped first).' },
  listLimit: { default: 100, min: 1, max: 1000, doc: 'Jobs per page of a list call.' },
  searchScanMax: { default: 10_000, min: 100, max: 1_000_000, doc: 'Most jobs one list call filtered by a payload field examines (no index serves the filter); the call returns a cursor to go on from.' },
  bulkBatchMax: { default: 1000, min: 1, max: 10_000, doc: 'Most jobs one bulk retry, cancel or delete call acts on (its `limit`); the call returns a cursor to go on from.' },
  capacityTargetWaitMs: { default: 1 * SECOND, min: 1, max: 1 * DAY, doc: 'The target mean wait before a job starts that a capacity answer (`GET /v1/queues/{queue}/capacity`, the dashboard) counts the workers for.' },
  alertForMs: { default: 0, min: 0, max: 1 * DAY, doc: "How long an alert rule's condition must hold before it fires (a rule's `forMs`)." },
  idempotencyWindowMs: { default: 1 * DAY, min: 1 * SECOND, max: 30 * DAY, doc: "How long an add's `idempotencyKey` is remembered (per queue): another add with the key within it returns the job the key created and stores nothing; past it the key is forgotten and the same key adds a new job." },
  bindingsMax: { default: 10_000, min: 1, max: 1_000_000, doc: 'Most topic bindings (pattern → queue) a store keeps; another `bind` is refused. Every process holds them all, compiled, to route publishes (see docs/routing.md).' },
  alertRulesMax: { default: 1000, min: 1, max: 100_000, doc: 'Most alert rules a store keeps; setting another is refused.' },
  alertEventsMax: { default: 1000, min: 10, max: 1_000_000, doc: 'Alert firings and resolutions kept for the dashboard and `spool alert events`; the oldest delivered ones are deleted first.' },
  alertWebhookTimeoutMs: { default: 5 * SECOND, min: 100, max: 1 * MINUTE, doc: "How long one alert webhook call may take before it counts as failed." },
  alertDeliveryAttempts: { default: 10, min: 1, max: 100, doc: 'Webhook calls made for one alert event (retried with exponential backoff from 1 s up to 5 min) before it is marked failed.' },
  heartbeatIntervalMs: { default: 5 * SECOND, min: 50, max: 1 * MINUTE, doc: 'Stores shared by processes (PostgreSQL, a SQLite file several processes open): how often a process renews its registration. 1.5 intervals without one and it is presumed dead: its leases are back within 2 intervals, whatever their visibility timeout (the maintenance tick runs at least every half interval).' },
  leaderLeaseMs: { default: 3 * SECOND, min: 50, max: 1 * MINUTE, doc: 'Shared stores: how long leadership lasts unless renewed (each maintenance tick renews it); a dead leader is replaced after this.' },
  bodyMaxBytes: { default: 16 * MiB, min: 1 * KiB, max: 1024 * MiB, doc: 'Server: largest HTTP request body or WebSocket frame.' },
  idleTimeoutMs: { default: 1 * MINUTE, min: 1 * SECOND, max: 1 * HOUR, doc: 'Server: an HTTP keep-alive connection idle this long is closed.' },
  receiveWaitMaxMs: { default: 20 * SECOND, min: 0, max: 5 * MINUTE, doc: 'Server: longest wait a long-poll receive may ask for.' },
  connectionsMax: { default: 10_000, min: 1, max: 1_000_000, doc: 'Server: most WebSocket connections one broker holds; more are refused with 429.' },
  consumerInflightMax: { default: 10_000, min: 1, max: 1_000_000, doc: 'Server: most jobs delivered to one connection and not yet settled; credits beyond it are not granted.' },
  requestsInflightMax: { default: 1_000, min: 1, max: 100_000, doc: 'Server: most requests of one WebSocket connection in progress at once; more are refused with TOO_MANY.' },
  wsHeartbeatMs: { default: 10 * SECOND, min: 100, max: 5 * MINUTE, doc: 'Server: how often the broker pings each WebSocket; a connection that has not answered by the next ping is closed. The leases a closed connection held end 1.5 intervals later, and are back within 2 while `maintenanceIntervalMs` (the lease reaper) is at most half of this, as by default, unless the worker reconnects to a broker and extends them first.' },
  helloTimeoutMs: { default: 10 * SECOND, min: 100, max: 5 * MINUTE, doc: 'Server: how long a new WebSocket connection has to send hello.' },
  metricsQueuesMax: { default: 1000, min: 0, max: 10_000, doc: 'Server: most queues `GET /metrics` labels by name; the figures of further queues are summed under `queue="_other"`.' },
  tokenCacheMs: { default: 5 * SECOND, min: 0, max: 1 * MINUTE, doc: "Broker: how long a verified API token (and, in auto mode, that the store has never had one) is trusted before the store is asked again; a revoked token keeps working at most this long. A broker records a token's last use at most once per this interval (at least 1 s)." },
  sqsClockSkewMs: { default: 5 * MINUTE, min: 1 * SECOND, max: 1 * HOUR, doc: 'SQS endpoint: how far the signing time of a request (X-Amz-Date) may be from the broker\'s clock; further is refused with RequestExpired.' },
  sqsRedriveIntervalMs: { default: 1 * SECOND, min: 10, max: 1 * MINUTE, doc: 'SQS endpoint: how often the dead-lettered messages of queues with a RedrivePolicy are moved to their dead-letter queue.' },
  tokenTtlMs: { default: 0, min: 0, max: 5 * 365 * DAY, doc: 'Broker: how long an API token is accepted after it is made (spool token create --ttl); 0, the default, for a token that never expires.' },
  busyTimeoutMs: { default: 5 * SECOND, min: 0, max: 1 * MINUTE, doc: 'SQLite: how long a write waits for another process holding the database lock.' },
  readTimeoutMs: { default: 10 * SECOND, min: 100, max: 10 * MINUTE, doc: "PostgreSQL: longest one operator read (queue stats, a page of jobs, a payload search, a job's log lines, alert events: what the dashboard, the CLI and the API read) may run before PostgreSQL cancels it. These reads have connections of their own (at most 2 per process), so they never wait for, or hold, the connections claims and acks use." },
  poolSize: { default: 10, min: 1, max: 1_000, doc: "PostgreSQL: connections in one process's pool (plus one for LISTEN when notify is on, and up to 2 for operator reads: see readTimeoutMs)." },
  reconnectBaseMs: { default: 100, min: 10, max: 1 * MINUTE, doc: 'Client: first reconnect delay; each failed try doubles it, up to reconnectMaxMs, with full jitter.' },
  reconnectMaxMs: { default: 1 * SECOND, min: 10, max: 5 * MINUTE, doc: 'Client: longest reconnect delay; may not be below reconnectBaseMs. With full jitter a client tries again within this long, so it is back within about a second of its broker; raise it for many thousands of clients per broker.' },
  connectTimeoutMs: { default: 10 * SECOND, min: 100, max: 10 * MINUTE, doc: 'Client: how long Spool.connect tries to reach a broker before it gives up.' },
  sendBufferMaxBytes: { default: 4 * MiB, min: 1 * KiB, max: 1024 * MiB, doc: 'Client: socket bytes queued for sending above which adds and lease operations wait.' },
  rateLimitRate: { default: 1, min: 1, max: 1_000_000, doc: "A queue's `rateLimit.rate` (required in a rate limit): jobs admitted per `perMs`, on average (a token bucket refilled continuously)." },
  rateLimitPerMs: { default: 1 * SECOND, min: 1, max: 1 * DAY, doc: "A queue's `rateLimit.perMs`: the period `rate` is counted over." },
  rateLimitBurst: { default: 1, min: 1, max: 1_000_000, doc: "A queue's `rateLimit.burst`: the bucket's size, the most jobs admitted at once after a quiet time; left out, it is `rate`. Over any `perMs`, at most `rate + burst` jobs start." },
  maxLength: { default: 0, min: 0, max: 100_000_000, doc: "A queue setting: most jobs waiting to start (ready and scheduled) a queue holds; an add past it is refused (`overflow: 'reject'`) or drops the oldest waiting jobs (`'drop-oldest'`). null or 0, the default: no bound." },
  queueFullWaitMs: { default: 10 * SECOND, min: 0, max: 5 * MINUTE, doc: "How long an add to a full bounded queue (overflow `reject`) waits for room (woken when jobs leave the queue) before it fails with QUEUE_FULL; `Spool.open` and `Spool.connect` option. The HTTP add route never waits: it answers 429 at once." },
  uniqueWindowMs: { default: 0, min: 0, max: 30 * DAY, doc: "Add option `uniqueWindowMs` (with a `uniqueKey`): how long after its add a job holds its unique key even once it has finished (completed, dead or cancelled), so that no job with the key is added again within it; 0, the default: the key is free as soon as the job is no longer scheduled, ready or active." },
  concurrencyLimit: { default: 0, min: 0, max: 1_000_000, doc: "A queue setting: most jobs of one `concurrencyKey` (add option) active at once, across every process; a key in `concurrencyLimits` has its own limit (1 to this). null or 0, the default: none. Jobs without a key are not limited." },
  everyMs: { default: 60 * SECOND, min: 1 * SECOND, max: 366 * DAY, doc: "A schedule's `everyMs` (the simple form of a repeat): a job every this many ms, at the multiples of it since the Unix epoch." },
  schedulesMax: { default: 1000, min: 1, max: 100_000, doc: 'Most cron and repeat schedules a store keeps; creating another is refused.' },
  cronGraceMs: { default: 5 * SECOND, min: 0, max: 1 * HOUR, doc: "How late a schedule's slot may still be fired: a slot no process fired within this long of its time (all were down) is missed, and the schedule's `catchUp` decides (`skip`: no job; `run-once`: one job for the latest missed slot)." },
  queueLabelsMax: { default: 100, min: 0, max: 100, doc: 'A queue setting: most `labels` (name → text) one queue holds.' },
  concurrencyLimitsMax: { default: 1000, min: 0, max: 1000, doc: 'A queue setting: most keys `concurrencyLimits` may name.' },
  keyRateLimitsMax: { default: 1000, min: 0, max: 1000, doc: 'A queue setting: most keys `keyRateLimits` may name.' },
  resourceTagsMax: { default: 16, min: 0, max: 16, doc: 'Most resource tags a job may require (add option `requires`) or a worker may carry (worker option `tags`); each tag is 1–64 letters, digits, `.`, `_`, `:` or `-`, starting with a letter or digit.' },
} as const satisfies Record<string, Bound>;

export type LimitName = keyof typeof LIMITS;

/**
 * Validates an integer setting against its bound, or returns the default when `value` is undefined.
 * @throws InvalidArgumentError naming the field and the bound.
 */
export function checkLimit(name: LimitName, value: unknown, field: string = name): number {
  const bound: Bound = LIMITS[name];
  if (value === undefined) return bound.default;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidArgumentError(field, `${field} must be an integer (got ${describe(value)})`);
  }
  if (value < bound.min) throw new InvalidArgumentError(field, `${field} must be at least ${bound.min} (got ${value})`);
  if (value > bound.max) throw new InvalidArgumentError(field, `${field} must be at most ${bound.max} (got ${value})`);
  return value;
}

/** A short, safe description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
