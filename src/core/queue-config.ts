import { InvalidArgumentError } from './errors.ts';
import { checkLimit, describe, LIMITS } from './limits.ts';
import { checkKeyRateLimits, resolveKeyRateLimit, type KeyRateLimit, type KeyRateLimitInput } from './key-rate-limit.ts';
import { checkOptionKeys, nearest, QUEUE_SETTING_KEYS } from './options.ts';

export type { KeyRateLimit, KeyRateLimitInput };

/** How failed jobs wait before their next attempt. */
export type Backoff =
  | { type: 'fixed'; delayMs: number }
  /** delay = min(maxDelayMs, delayMs · 2^(attempt-1)), then a random value between half and all of it. */
  | { type: 'exponential'; delayMs: number; maxDelayMs: number };

/**
 * How a queue orders its ready jobs (see docs/scheduling.md):
 * - `fifo` (the default): by priority, highest first, then by the time the job became ready.
 * - `priority`: by priority with aging: a job gains one level per `agingMs` of waiting.
 * - `sjf`: shortest job first, by the `cost` add option or the queue's learned run time of the
 *   job's name, aged by `sjfCostFactor` so long jobs are not starved.
 * - `fair`: fair share across the jobs' `group` (tenant), weighted by `fairWeights`.
 */
export type SchedulingPolicy = 'fifo' | 'priority' | 'sjf' | 'fair';

/** Every scheduling policy, the default first. */
export const SCHEDULING_POLICIES: readonly SchedulingPolicy[] = ['fifo', 'priority', 'sjf', 'fair'];

/** Per-queue settings, stored with the queue. */
export interface QueueConfig {
  /** Lease length for delivered jobs. */
  visibilityTimeoutMs: number;
  /** Default maxAttempts for new jobs. */
  maxAttempts: number;
  /** Default maxStalls for new jobs. */
  maxStalls: number;
  backoff: Backoff;
  /** Default `timeoutMs` of new jobs: longest one attempt may run (0: no limit). */
  timeoutMs: number;
  /** How fast jobs of the queue may start (a token bucket), or null: no limit. See docs/scheduling.md, Rate limits. */
  rateLimit: RateLimit | null;
  /**
   * Most jobs waiting to start (ready and scheduled) the queue holds; null: no bound (the
   * default). Active jobs do not count: they are bounded by the workers' concurrency already.
   * Checked by the store in the add's own transaction (see docs/scheduling.md, "Bounded queues").
   */
  maxLength: number | null;
  /** What an add past `maxLength` does: `reject` (QueueFullError, the default) or `drop-oldest` (the oldest waiting jobs become dead, deadReason `dropped`). */
  overflow: Overflow;
  /** How ready jobs are ordered: `fifo` (default), `priority` (with aging), `sjf` or `fair`. */
  policy: SchedulingPolicy;
  /** Policy `priority`: ms of waiting worth one priority level. */
  agingMs: number;
  /** Policy `sjf`: ms of waiting one ms of a job's cost is worth. */
  sjfCostFactor: number;
  /** Policy `sjf`: weight in percent of the newest run time in a job name's learned estimate. */
  sjfLearnPct: number;
  /** Policy `fair`: weight per group (a group left out, and jobs without a group, weigh 1). */
  fairWeights: Record<string, number>;
  /**
   * Most jobs of one `concurrencyKey` (the add option) active at once in the queue, across every
   * process; null: no limit (the default). A key named in `concurrencyLimits` has that limit
   * instead. Jobs without a key are not limited. See docs/scheduling.md, "Per-key concurrency".
   */
  concurrencyLimit: number | null;
  /** Per-key limits that replace `concurrencyLimit` for the keys named (at most `concurrencyLimitsMax` keys). */
  concurrencyLimits: Record<string, number>;
  /**
   * FIFO per message group: at most one job of a `group` active at once, and a group's jobs start
   * in the order they were added (a job waiting for a retry holds its group back). Jobs without
   * a group are not affected. See docs/scheduling.md, "FIFO per group".
   */
  groupFifo: boolean;
  /**
   * A token bucket per job key: every `concurrencyKey` (the add option, the same key per-key
   * concurrency limits by) has its own, and a job of the key starts only with one of its tokens;
   * null: none (the default). Jobs without a key are not limited. See docs/scheduling.md,
   * "Per-key rate limits".
   */
  keyRateLimit: KeyRateLimit | null;
  /** Per-key rate limits that replace `keyRateLimit` for the keys named (at most `keyRateLimitsMax` keys). */
  keyRateLimits: Record<string, KeyRateLimit>;
  /**
   * Free-form labels of the queue (name → text), for people and integrations: the SQS endpoint
   * keeps its queue tags and the SQS attributes Spool has no setting for here (docs/sqs.md).
   * At most `queueLabelsMax` labels; a name is 1–128 characters, a value at most 256, neither
   * with control characters. A new map replaces the old one. Default {}.
   */
  labels: Record<string, string>;
}

/** What an add to a full bounded queue does. */
export type Overflow = 'reject' | 'drop-oldest';
export const OVERFLOWS: readonly Overflow[] = ['reject', 'drop-oldest'];

/** A queue's bound as the engine passes it to the store with each row of an add. */
export interface QueueBound {
  maxLength: number;
  overflow: Overflow;
}

/** The bound of a queue's settings, or null when it has none. */
export function queueBound(config: QueueConfig): QueueBound | null {
  return config.maxLength === null ? null : { maxLength: config.maxLength, overflow: config.overflow };
}

/**
 * A token bucket on the starts of a queue's jobs: it holds up to `burst` tokens, gains `rate`
 * tokens every `perMs` (continuously), and every job leased takes one. Jobs over the limit stay
 * queued. Over any window of `perMs`, at most `rate + burst` jobs start.
 */
export interface RateLimit {
  /** Tokens added per `perMs`: the long-run rate. */
  rate: number;
  /** The period `rate` is counted over, in ms (default 1000). */
  perMs: number;
  /** The bucket's size: the most jobs that start at once after a quiet time (default: `rate`). */
  burst: number;
  /**
   * A name shared by several queues that draw on one bucket (e.g. `'smtp'`), or null: the queue
   * has a bucket of its own. Every queue naming a limiter must give it the same rate, perMs and burst.
   */
  limiter: string | null;
}

/** What `rateLimit` takes: `rate` is required, the rest have defaults; null removes the limit. */
export type RateLimitInput = { rate: number; perMs?: number; burst?: number; limiter?: string | null };

/** The settings a caller may pass; anything left out keeps its current (or default) value. */
export type QueueConfigInput = Partial<Omit<QueueConfig, 'backoff' | 'rateLimit' | 'keyRateLimit' | 'keyRateLimits'>> & {
  backoff?: Partial<Backoff> & { type?: Backoff['type'] };
  /** Replaces the queue's rate limit as a whole (fields left out take their defaults); null removes it. */
  rateLimit?: RateLimitInput | null;
  /** Replaces the per-key rate limit as a whole (fields left out take their defaults); null removes it. */
  keyRateLimit?: KeyRateLimitInput | null;
  /** Replaces the whole map of keys with their own rate limits. */
  keyRateLimits?: Record<string, KeyRateLimitInput>;
};

/**
 * What the store needs to order a job of a queue that is not `fifo` (null for `fifo`): the
 * policy and its parameter. `weights` (fair) maps a group to its weight; others weigh 1.
 */
export type JobOrder =
  | { policy: 'priority'; agingMs: number }
  | { policy: 'sjf'; costFactor: number }
  | { policy: 'fair'; weights: Readonly<Record<string, number>> };

/** The order parameters of a queue's settings: null for `fifo`, whose claims never read a sort key. */
export function jobOrderOf(config: QueueConfig): JobOrder | null {
  switch (config.policy) {
    case 'priority': return { policy: 'priority', agingMs: config.agingMs };
    case 'sjf': return { policy: 'sjf', costFactor: config.sjfCostFactor };
    case 'fair': return { policy: 'fair', weights: config.fairWeights };
    default: return null;
  }
}

/** Whether two orders key jobs alike (the same policy and parameters): a change of order recomputes the waiting jobs' keys. */
export function sameJobOrder(a: JobOrder | null, b: JobOrder | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function defaultQueueConfig(): QueueConfig {
  return {
    visibilityTimeoutMs: checkLimit('visibilityTimeoutMs', undefined),
    maxAttempts: checkLimit('maxAttempts', undefined),
    maxStalls: checkLimit('maxStalls', undefined),
    backoff: { type: 'exponential', delayMs: checkLimit('backoffDelayMs', undefined), maxDelayMs: checkLimit('backoffMaxDelayMs', undefined) },
    timeoutMs: checkLimit('timeoutMs', undefined),
    rateLimit: null,
    maxLength: null,
    overflow: 'reject',
    policy: 'fifo',
    agingMs: checkLimit('agingMs', undefined),
    sjfCostFactor: checkLimit('sjfCostFactor', undefined),
    sjfLearnPct: checkLimit('sjfLearnPct', undefined),
    fairWeights: {},
    concurrencyLimit: null,
    concurrencyLimits: {},
    groupFifo: false,
    keyRateLimit: null,
    keyRateLimits: {},
    labels: {},
  };
}

/** Merges `input` over `base`, validating every field. @throws InvalidArgumentError */
export function resolveQueueConfig(input: unknown, base: QueueConfig = defaultQueueConfig()): QueueConfig {
  if (input === undefined) return base;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError('config', `queue config must be an object (got ${describe(input)})`);
  }
  const i = input as Record<string, unknown>;
  checkOptionKeys(i, QUEUE_SETTING_KEYS, 'queue.configure', 'queue setting');
  return {
    visibilityTimeoutMs: i.visibilityTimeoutMs === undefined ? base.visibilityTimeoutMs : checkLimit('visibilityTimeoutMs', i.visibilityTimeoutMs),
    maxAttempts: i.maxAttempts === undefined ? base.maxAttempts : checkLimit('maxAttempts', i.maxAttempts),
    maxStalls: i.maxStalls === undefined ? base.maxStalls : checkLimit('maxStalls', i.maxStalls),
    backoff: i.backoff === undefined ? base.backoff : resolveBackoff(i.backoff, base.backoff),
    timeoutMs: i.timeoutMs === undefined ? base.timeoutMs : checkLimit('timeoutMs', i.timeoutMs),
    // A settings row stored before rate limits existed has no such key: no limit.
    rateLimit: i.rateLimit === undefined ? (base.rateLimit ?? null) : resolveRateLimit(i.rateLimit),
    // Settings stored before bounded queues existed have neither field: unbounded, reject.
    maxLength: i.maxLength === undefined ? (base.maxLength ?? null) : i.maxLength === null ? null : checkLimit('maxLength', i.maxLength) || null,
    overflow: i.overflow === undefined ? (base.overflow ?? 'reject') : checkOverflow(i.overflow),
    policy: i.policy === undefined ? base.policy : checkPolicy(i.policy),
    agingMs: i.agingMs === undefined ? base.agingMs : checkLimit('agingMs', i.agingMs),
    sjfCostFactor: i.sjfCostFactor === undefined ? base.sjfCostFactor : checkLimit('sjfCostFactor', i.sjfCostFactor),
    sjfLearnPct: i.sjfLearnPct === undefined ? base.sjfLearnPct : checkLimit('sjfLearnPct', i.sjfLearnPct),
    fairWeights: i.fairWeights === undefined ? base.fairWeights : checkFairWeights(i.fairWeights),
    // Settings stored before per-key concurrency existed have none of these: no limits, no group FIFO.
    concurrencyLimit: i.concurrencyLimit === undefined ? (base.concurrencyLimit ?? null)
      : i.concurrencyLimit === null ? null : checkLimit('concurrencyLimit', i.concurrencyLimit) || null,
    concurrencyLimits: i.concurrencyLimits === undefined ? (base.concurrencyLimits ?? {}) : checkConcurrencyLimits(i.concurrencyLimits),
    groupFifo: i.groupFifo === undefined ? (base.groupFifo ?? false) : checkGroupFifo(i.groupFifo),
    // Settings stored before per-key rate limits existed have neither: none.
    keyRateLimit: i.keyRateLimit === undefined ? (base.keyRateLimit ?? null) : resolveKeyRateLimit(i.keyRateLimit),
    keyRateLimits: i.keyRateLimits === undefined ? (base.keyRateLimits ?? {}) : checkKeyRateLimits(i.keyRateLimits),
    // Settings stored before labels existed have none.
    labels: i.labels === undefined ? (base.labels ?? {}) : checkLabels(i.labels),
  };
}

const RATE_LIMIT_KEYS = ['rate', 'perMs', 'burst', 'limiter'] as const;
/** Limiter names: as queue names, 1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit. */
const LIMITER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** A rate limit as given (replacing the current one as a whole), or null for none. @throws InvalidArgumentError */
export function resolveRateLimit(input: unknown): RateLimit | null {
  if (input === null) return null;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidArgumentError('rateLimit', `rateLimit must be an object like { rate: 10, perMs: 1000 } or null for none (got ${describe(input)})`);
  }
  checkOptionKeys(input, RATE_LIMIT_KEYS, 'queue.configure', 'rateLimit setting', 'rateLimit.');
  const r = input as Record<string, unknown>;
  if (r.rate === undefined) throw new InvalidArgumentError('rateLimit.rate', 'rateLimit.rate is required: the jobs admitted per perMs, e.g. { rate: 10, perMs: 1000 }');
  const rate = checkLimit('rateLimitRate', r.rate, 'rateLimit.rate');
  const perMs = checkLimit('rateLimitPerMs', r.perMs, 'rateLimit.perMs');
  const burst = r.burst === undefined ? rate : checkLimit('rateLimitBurst', r.burst, 'rateLimit.burst');
  const limiter = r.limiter ?? null;
  if (limiter !== null && (typeof limiter !== 'string' || !LIMITER_NAME_RE.test(limiter))) {
    throw new InvalidArgumentError('rateLimit.limiter', `rateLimit.limiter ${describe(limiter)} is not valid: use 1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit, or null`);
  }
  return { rate, perMs, burst, limiter };
}

/** Whether two rate limits have the same rate, period and burst (what queues sharing a limiter must agree on). */
export function sameRate(a: RateLimit, b: RateLimit): boolean {
  return a.rate === b.rate && a.perMs === b.perMs && a.burst === b.burst;
}

function checkOverflow(value: unknown): Overflow {
  if (typeof value === 'string' && (OVERFLOWS as readonly string[]).includes(value)) return value as Overflow;
  const near = typeof value === 'string' ? nearest(value, OVERFLOWS) : null;
  throw new InvalidArgumentError('overflow', `overflow must be 'reject' or 'drop-oldest' (got ${describe(value)})${near ? `; did you mean ${JSON.stringify(near)}?` : ''}`);
}

/** A scheduling policy, refused naming the nearest valid one. @throws InvalidArgumentError */
export function checkPolicy(value: unknown): SchedulingPolicy {
  if ((SCHEDULING_POLICIES as readonly unknown[]).includes(value)) return value as SchedulingPolicy;
  const near = typeof value === 'string' ? nearest(value, SCHEDULING_POLICIES) : null;
  const hint = near === null ? `one of ${SCHEDULING_POLICIES.map((p) => `'${p}'`).join(', ')}` : `did you mean '${near}'?`;
  throw new InvalidArgumentError('policy', `unknown scheduling policy ${describe(value)}; ${hint}`);
}

/** `fairWeights`: an object of at most fairWeightsMax groups (each a valid group name), each weight an integer within fairWeight. @throws InvalidArgumentError */
function checkFairWeights(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError('fairWeights', `fairWeights must be an object of group → weight, like { acme: 2 } (got ${describe(value)})`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const max = LIMITS.fairWeightsMax.max;
  if (entries.length > max) throw new InvalidArgumentError('fairWeights', `fairWeights may name at most ${max} groups (got ${entries.length})`);
  const out: Record<string, number> = {};
  for (const [group, weight] of entries) {
    if (group.length < 1 || group.length > 128 || group.includes('\0') || !group.isWellFormed()) {
      throw new InvalidArgumentError('fairWeights', `fairWeights: ${describe(group)} is not a group name (1–128 characters of well-formed text without U+0000)`);
    }
    out[group] = checkLimit('fairWeight', weight, `fairWeights[${JSON.stringify(group)}]`);
  }
  return out;
}

/** `concurrencyLimits`: an object of at most concurrencyLimitsMax keys (each a valid concurrency key), each limit within concurrencyLimit. @throws InvalidArgumentError */
function checkConcurrencyLimits(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError('concurrencyLimits', `concurrencyLimits must be an object of key → limit, like { 'tenant-a': 5 } (got ${describe(value)})`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const max = LIMITS.concurrencyLimitsMax.max;
  if (entries.length > max) throw new InvalidArgumentError('concurrencyLimits', `concurrencyLimits may name at most ${max} keys (got ${entries.length})`);
  const out: Record<string, number> = {};
  for (const [key, limit] of entries) {
    if (key.length < 1 || key.length > 128 || key.includes('\0') || !key.isWellFormed()) {
      throw new InvalidArgumentError('concurrencyLimits', `concurrencyLimits: ${describe(key)} is not a concurrency key (1–128 characters of well-formed text without U+0000)`);
    }
    const field = `concurrencyLimits[${JSON.stringify(key)}]`;
    if (limit === 0) throw new InvalidArgumentError(field, `${field} must be at least 1 (leave the key out for the queue's concurrencyLimit)`);
    out[key] = checkLimit('concurrencyLimit', limit, field);
  }
  return out;
}

// Control characters would garble a log line or a table cell.
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** `labels`: at most queueLabelsMax names (1–128 characters) to texts of at most 256 characters, without control characters. @throws InvalidArgumentError */
export function checkLabels(value: unknown, field = 'labels'): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(field, `${field} must be an object of name → text, like { team: 'billing' } (got ${describe(value)})`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const max = LIMITS.queueLabelsMax.max;
  if (entries.length > max) throw new InvalidArgumentError(field, `${field} may hold at most ${max} labels (got ${entries.length})`);
  const out: Record<string, string> = {};
  for (const [name, text] of entries) {
    if (name.length < 1 || name.length > 128 || CONTROL_RE.test(name) || !name.isWellFormed()) {
      throw new InvalidArgumentError(field, `${field}: ${describe(name)} is not a label name (1–128 characters of well-formed text without control characters)`);
    }
    if (typeof text !== 'string' || text.length > 256 || CONTROL_RE.test(text) || !text.isWellFormed()) {
      throw new InvalidArgumentError(`${field}[${JSON.stringify(name)}]`, `${field}[${JSON.stringify(name)}] must be a text of at most 256 characters without control characters (got ${describe(text)})`);
    }
    out[name] = text;
  }
  return out;
}

function checkGroupFifo(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError('groupFifo', `groupFifo must be true or false (got ${describe(value)})`);
  return value;
}

/**
 * What a claim of a queue with per-key limits or group FIFO passes to the store (see
 * ClaimParams.concurrency); null when the queue has neither, so its claims run the plain statement.
 */
export interface ConcurrencyRule {
  /** The limit of a key not in `limits`; null: none. */
  limit: number | null;
  /** Limits of the keys named. */
  limits: Readonly<Record<string, number>>;
  /** At most one job of a group active, started in the order of the adds. */
  groupFifo: boolean;
}

/** The concurrency rule of a queue's settings, or null when it has none (the claim path of today). */
export function concurrencyRuleOf(config: QueueConfig): ConcurrencyRule | null {
  const limits = config.concurrencyLimits ?? {};
  const limit = config.concurrencyLimit ?? null;
  const groupFifo = config.groupFifo === true;
  if (limit === null && Object.keys(limits).length === 0 && !groupFifo) return null;
  return { limit, limits, groupFifo };
}

const BACKOFF_KEYS = ['type', 'delayMs', 'maxDelayMs'] as const;

function resolveBackoff(input: unknown, base: Backoff): Backoff {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError('backoff', `backoff must be an object like { type: 'exponential', delayMs: 1000 } (got ${describe(input)})`);
  }
  checkOptionKeys(input, BACKOFF_KEYS, 'queue.configure', 'backoff setting', 'backoff.');
  const b = input as Record<string, unknown>;
  const type = b.type ?? base.type;
  const delayMs = b.delayMs === undefined ? base.delayMs : checkLimit('backoffDelayMs', b.delayMs, 'backoff.delayMs');
  if (type === 'fixed') return { type, delayMs };
  if (type === 'exponential') {
    const fallbackMax = base.type === 'exponential' ? base.maxDelayMs : checkLimit('backoffMaxDelayMs', undefined);
    const maxDelayMs = b.maxDelayMs === undefined ? fallbackMax : checkLimit('backoffMaxDelayMs', b.maxDelayMs, 'backoff.maxDelayMs');
    return { type, delayMs, maxDelayMs };
  }
  throw new InvalidArgumentError('backoff.type', `backoff.type must be 'fixed' or 'exponential' (got ${describe(type)})`);
}

/**
 * The delay before the next attempt after attempt number `attempt` (1-based) failed.
 * @param random a source in [0, 1), injectable for tests.
 */
export function backoffDelayMs(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  if (backoff.type === 'fixed') return backoff.delayMs;
  const exponent = Math.min(Math.max(attempt - 1, 0), 52);
  const ceiling = Math.min(backoff.maxDelayMs, backoff.delayMs * 2 ** exponent);
  // "Equal jitter": keep half, randomise half, so retries of many jobs failing together spread out
  // but never come back sooner than half the nominal delay.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
