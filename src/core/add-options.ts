/**
 * The options of an add (`add` and each item of `addMany`): what callers may pass, and the one
 * check that turns them into what the engine stores. Re-exported by validate.ts.
 */
import { InvalidArgumentError } from './errors.ts';
import type { JobTrace } from './job.ts';
import { checkLimit, describe, LIMITS } from './limits.ts';
import { nearest } from './options.ts';
import { checkResourceTags } from './resource-tags.ts';
import { checkJobTrace } from './trace-context.ts';
import { checkConcurrencyKey, checkIdempotencyKey, checkJobCost, checkJobGroup, checkJobName, checkUniqueKey } from './validate.ts';

/** Options accepted by `add` and each item of `addMany`. */
export interface AddOptions {
  /** Job name; defaults to `default`. */
  name?: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Run no sooner than this many milliseconds from now. */
  delayMs?: number;
  /** Run no sooner than this time (Date or Unix ms). Give delayMs or runAt, not both. */
  runAt?: Date | number;
  /** Attempts before the job is dead; defaults to the queue's setting. */
  maxAttempts?: number;
  /**
   * Longest one attempt may run, in ms (0: no limit); defaults to the queue's `timeoutMs`. Past
   * it the handler's signal aborts with a JobTimeoutError and the attempt fails (and is retried
   * like any failure); the lease is no longer extended.
   */
  timeoutMs?: number;
  /**
   * The trace context the job carries: its worker's `process` span links to it. Left out, Spool
   * takes the span active where `add` is called (with OpenTelemetry on, see docs/operations.md);
   * null: none. Give it to carry a context Spool cannot see, e.g. one a request arrived with.
   */
  trace?: JobTrace | null;
  /**
   * The group the job belongs to (a tenant, a customer): 1–128 characters of well-formed text
   * without U+0000, as a job name. Listings and bulk actions can filter by it. Left out: none
   * (the job's `group` is null).
   */
  group?: string;
  /**
   * Makes the add idempotent: 1–128 characters of well-formed text without U+0000. Another add
   * to the same queue with the same key within the store's `idempotencyWindowMs` (default 24 h)
   * stores nothing and returns the job the key created (same id, its current state). Past the
   * window the key is forgotten and the same key adds a new job. The remote client sets a fresh
   * key on every add that has none, so its own re-sends after a reconnect never store a job
   * twice; give your own key to deduplicate your own retries.
   */
  idempotencyKey?: string;
  /**
   * Time to live, in ms (0, the default: none): a job not started (first leased) within this
   * long of its add is never run; it becomes dead with deadReason `expired` and lastError
   * `expired: not started within ttlMs`. Once started, its retries are not affected. At most
   * the `ttlMs` limit (365 days).
   */
  ttlMs?: number;
  /**
   * The job's expected run time in ms: a positive finite number (fractions allowed) up to the
   * `cost` limit (1 day). A queue with policy `sjf` serves cheaper jobs first (aged by its
   * `sjfCostFactor`); left out, that queue uses its learned estimate for the job's name. Other
   * policies keep it with the job and ignore it.
   */
  cost?: number;
  /**
   * The key the queue limits concurrency by (a tenant, a customer, an account): 1–128 characters
   * of well-formed text without U+0000, as a group. While the queue's `concurrencyLimit` (or its
   * `concurrencyLimits` entry for the key) of jobs with this key are active, across every
   * process, no other job with the key starts. Left out: none (the job is not limited).
   */
  concurrencyKey?: string;
  /**
   * The resource tags a worker must carry to take the job (e.g. `['gpu', 'region:eu']`): only a
   * worker whose `tags` include every one of them leases it (see docs/scheduling.md,
   * Resource-aware dispatch). Each tag is 1–64 letters, digits, '.', '_', ':' or '-', starting
   * with a letter or digit; at most `resourceTagsMax` (16). Stored without repeats, sorted. Left
   * out or empty: any worker may take the job.
   */
  requires?: readonly string[];
  /**
   * PostgreSQL store: add the job inside your own open transaction — a `postgres` (postgres.js)
   * transaction `sql` or a `pg` client inside BEGIN. The job exists if and only if that transaction commits.
   */
  tx?: unknown;
  /**
   * Deduplicates the job: 1–128 characters of well-formed text without U+0000. While a job of
   * the queue with this key is live (scheduled, ready or active), another add with the key
   * stores nothing and returns that job, marked `duplicate: true`; once it has completed, died,
   * been cancelled or deleted, the key is free (unless `uniqueWindowMs` holds it longer) and
   * the same key adds a new job. Enforced by the
   * store (a unique index over live jobs), across processes and brokers. Unlike
   * `idempotencyKey` (a re-sent add returns the job it created, for a time window, whatever
   * its state), it says "at most one such job pending or running" (see docs/scheduling.md,
   * Deduplication).
   */
  uniqueKey?: string;
  /**
   * With `uniqueKey`: the job holds its key for this many ms after its add even once it has
   * finished (completed, dead or cancelled; not deleted), so no other job with the key is added
   * within it (a throttle: at most one job per key per window). 0, the default: only while it
   * is live. At most the `uniqueWindowMs` limit (30 days).
   */
  uniqueWindowMs?: number;
}

const ADD_OPTION_KEYS = new Set(['name', 'priority', 'delayMs', 'runAt', 'maxAttempts', 'timeoutMs', 'trace', 'group', 'idempotencyKey', 'ttlMs', 'cost', 'tx', 'uniqueKey', 'uniqueWindowMs', 'concurrencyKey', 'requires']);

export interface CheckedAddOptions {
  name: string;
  priority: number;
  runAt: number;
  maxAttempts: number | undefined;
  timeoutMs: number | undefined;
  /** undefined: not given (the engine takes the active span's); null: none. */
  trace: JobTrace | null | undefined;
  /** null: none. */
  group: string | null;
  /** null: none. */
  idempotencyKey: string | null;
  /** When the job must have started by (the add time plus ttlMs), or null: no TTL. */
  expiresAt: number | null;
  /** The declared cost (expected run time in ms), or null: none. */
  cost: number | null;
  /** null: none. */
  uniqueKey: string | null;
  /** Until when (the add time plus uniqueWindowMs) a finished job still holds its unique key; null: no window. */
  uniqueUntil: number | null;
  concurrencyKey: string | null;
  /** Canonical (sorted, without repeats); empty: none. */
  requires: string[];
}

/** Validates add options against the current time. @throws InvalidArgumentError */
export function checkAddOptions(options: unknown, nowMs: number): CheckedAddOptions {
  if (options === undefined) return { name: 'default', priority: 0, runAt: nowMs, maxAttempts: undefined, timeoutMs: undefined, trace: undefined, group: null, idempotencyKey: null, expiresAt: null, cost: null, uniqueKey: null, uniqueUntil: null, concurrencyKey: null, requires: [] };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError('options', `add options must be an object (got ${describe(options)})`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (ADD_OPTION_KEYS.has(key)) continue;
    const near = nearest(key, [...ADD_OPTION_KEYS]);
    const hint = near === null ? `known: ${[...ADD_OPTION_KEYS].join(', ')}` : `did you mean ${JSON.stringify(near)}?`;
    throw new InvalidArgumentError(key, `unknown add option ${JSON.stringify(key)}; ${hint}`);
  }
  // `tx` is the engine's business (it is per call, not per job); it is accepted here and used there.
  if (o.delayMs !== undefined && o.runAt !== undefined) {
    throw new InvalidArgumentError('runAt', 'give delayMs or runAt, not both');
  }
  let runAt = nowMs;
  if (o.delayMs !== undefined) runAt = nowMs + checkLimit('delayMs', o.delayMs);
  if (o.runAt !== undefined) {
    const at = o.runAt instanceof Date ? o.runAt.getTime() : o.runAt;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new InvalidArgumentError('runAt', `runAt must be a Date or Unix milliseconds (got ${describe(o.runAt)})`);
    }
    if (at - nowMs > LIMITS.delayMs.max) throw new InvalidArgumentError('runAt', `runAt must be at most ${LIMITS.delayMs.max} ms in the future`);
    runAt = Math.max(Math.round(at), nowMs);
  }
  return {
    name: checkJobName(o.name),
    priority: checkLimit('priority', o.priority),
    runAt,
    maxAttempts: o.maxAttempts === undefined ? undefined : checkLimit('maxAttempts', o.maxAttempts),
    timeoutMs: o.timeoutMs === undefined ? undefined : checkLimit('timeoutMs', o.timeoutMs),
    trace: o.trace === undefined ? undefined : checkJobTrace(o.trace),
    group: o.group === undefined ? null : checkJobGroup(o.group),
    idempotencyKey: o.idempotencyKey === undefined ? null : checkIdempotencyKey(o.idempotencyKey),
    expiresAt: expiresAtOf(o.ttlMs, nowMs),
    cost: o.cost === undefined ? null : checkJobCost(o.cost),
    uniqueKey: o.uniqueKey === undefined ? null : checkUniqueKey(o.uniqueKey),
    uniqueUntil: uniqueUntilOf(o, nowMs),
    concurrencyKey: o.concurrencyKey === undefined ? null : checkConcurrencyKey(o.concurrencyKey),
    requires: o.requires === undefined ? [] : checkResourceTags(o.requires, 'requires'),
  };
}

/** Until when a job added at `nowMs` holds its unique key once finished: null without a window (absent or 0). @throws InvalidArgumentError */
function uniqueUntilOf(o: Record<string, unknown>, nowMs: number): number | null {
  const windowMs = checkLimit('uniqueWindowMs', o.uniqueWindowMs);
  if (o.uniqueWindowMs !== undefined && o.uniqueKey === undefined) {
    throw new InvalidArgumentError('uniqueWindowMs', 'uniqueWindowMs goes with a uniqueKey: give the key the window holds');
  }
  return windowMs === 0 ? null : nowMs + windowMs;
}

/** The start deadline of a job added at `nowMs` with the `ttlMs` add option: null when none (absent or 0). */
function expiresAtOf(ttlMs: unknown, nowMs: number): number | null {
  const ttl = checkLimit('ttlMs', ttlMs);
  return ttl === 0 ? null : nowMs + ttl;
}
