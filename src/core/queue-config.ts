import { InvalidArgumentError } from './errors.ts';
import { checkLimit, describe } from './limits.ts';
import { checkOptionKeys, nearest, QUEUE_SETTING_KEYS } from './options.ts';

/** How failed jobs wait before their next attempt. */
export type Backoff =
  | { type: 'fixed'; delayMs: number }
  /** delay = min(maxDelayMs, delayMs · 2^(attempt-1)), then a random value between half and all of it. */
  | { type: 'exponential'; delayMs: number; maxDelayMs: number };

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
  /**
   * Most jobs waiting to start (ready and scheduled) the queue holds; null: no bound (the
   * default). Active jobs do not count: they are bounded by the workers' concurrency already.
   * Checked by the store in the add's own transaction (see docs/scheduling.md, "Bounded queues").
   */
  maxLength: number | null;
  /** What an add past `maxLength` does: `reject` (QueueFullError, the default) or `drop-oldest` (the oldest waiting jobs become dead, deadReason `dropped`). */
  overflow: Overflow;
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

/** The settings a caller may pass; anything left out keeps its current (or default) value. */
export type QueueConfigInput = Partial<Omit<QueueConfig, 'backoff'>> & { backoff?: Partial<Backoff> & { type?: Backoff['type'] } };

export function defaultQueueConfig(): QueueConfig {
  return {
    visibilityTimeoutMs: checkLimit('visibilityTimeoutMs', undefined),
    maxAttempts: checkLimit('maxAttempts', undefined),
    maxStalls: checkLimit('maxStalls', undefined),
    backoff: { type: 'exponential', delayMs: checkLimit('backoffDelayMs', undefined), maxDelayMs: checkLimit('backoffMaxDelayMs', undefined) },
    timeoutMs: checkLimit('timeoutMs', undefined),
    maxLength: null,
    overflow: 'reject',
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
    // Settings stored before bounded queues existed have neither field: unbounded, reject.
    maxLength: i.maxLength === undefined ? (base.maxLength ?? null) : i.maxLength === null ? null : checkLimit('maxLength', i.maxLength) || null,
    overflow: i.overflow === undefined ? (base.overflow ?? 'reject') : checkOverflow(i.overflow),
  };
}

function checkOverflow(value: unknown): Overflow {
  if (typeof value === 'string' && (OVERFLOWS as readonly string[]).includes(value)) return value as Overflow;
  const near = typeof value === 'string' ? nearest(value, OVERFLOWS) : null;
  throw new InvalidArgumentError('overflow', `overflow must be 'reject' or 'drop-oldest' (got ${describe(value)})${near ? `; did you mean ${JSON.stringify(near)}?` : ''}`);
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
