import { requiresOf, requiresText } from '../core/resource-tags.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { isJobId, newJobId } from '../core/ids.ts';
import type { Job, JobReport, JobTrace, Lease } from '../core/job.ts';
import { checkLimit, describe, LIMITS } from '../core/limits.ts';
import { checkOptionKeys } from '../core/options.ts';
import { jobOrderOf, type QueueConfig } from '../core/queue-config.ts';
import { checkJobGroup, checkJobId, checkJobName, checkJobState, checkQueueName, encodeJson } from '../core/validate.ts';
import { checkAddOptions } from '../core/add-options.ts';
import type { ListParams, NewJobRow, PayloadMatch, Store } from '../store/store.ts';
import { checkPayloadFilter, idRange } from './list-filter.ts';
import { activeTrace } from '../tracing/tracing.ts';
import type { AddItem, ListOptions } from './options.ts';

/**
 * Validates and encodes the items of an add in one pass, before anything is written.
 * Rows and the returned views share the payload. maxAttempts and maxStalls are left 0
 * where the queue's defaults apply: see {@link applyQueueDefaults}. A job without a `trace`
 * option carries the trace context of the span active in the caller (read here, while the
 * caller's context is current), or none.
 * @throws InvalidArgumentError or PayloadTooLargeError naming the item at fault.
 */
export function buildJobRows<P>(
  queue: string,
  items: readonly AddItem<P>[],
  now: number,
  limits: { payloadMaxBytes: number; addManyMax: number; idempotencyWindowMs: number },
): { rows: NewJobRow[]; jobs: Job<P>[] } {
  if (!Array.isArray(items)) throw new InvalidArgumentError('items', `addMany takes an array of { payload, ...options } (got ${describe(items)})`);
  if (items.length > limits.addManyMax) {
    throw new InvalidArgumentError('items', `addMany got ${items.length} jobs, over the addManyMax limit of ${limits.addManyMax}; split the batch`);
  }
  const rows: NewJobRow[] = new Array(items.length);
  const jobs: Job<P>[] = new Array(items.length);
  // The active span's context, read once per call and only when a job leaves `trace` out.
  let active: JobTrace | null | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== 'object' || item === null) throw new InvalidArgumentError(`items[${i}]`, `items[${i}] must be an object { payload, ...options }`);
    let trace: JobTrace | null;
    try {
      const { payload, tx: _tx, ...rest } = item;
      const options = checkAddOptions(rest, now);
      if (options.trace !== undefined) trace = options.trace;
      else trace = active === undefined ? (active = activeTrace()) : active;
      rows[i] = {
        id: newJobId(now),
        queue,
        name: options.name,
        payload: encodeJson(payload, limits.payloadMaxBytes),
        priority: options.priority,
        runAt: options.runAt,
        state: options.runAt > now ? 'scheduled' : 'ready',
        maxAttempts: options.maxAttempts ?? 0,
        maxStalls: 0,
        timeoutMs: options.timeoutMs ?? QUEUE_DEFAULT, // 0 is a job's own "no limit", so "not given" is another value
        trace: trace === null ? null : JSON.stringify(trace),
        group: options.group,
        expiresAt: options.expiresAt,
        cost: options.cost,
        concurrencyKey: options.concurrencyKey,
        requires: requiresText(options.requires),
        createdAt: now,
        idempotency: options.idempotencyKey === null ? null : { key: options.idempotencyKey, since: now - limits.idempotencyWindowMs },
        uniqueKey: options.uniqueKey,
        uniqueUntil: options.uniqueUntil,
      };
    } catch (err) {
      if (items.length > 1 && err instanceof Error) err.message = `items[${i}]: ${err.message}`;
      throw err;
    }
    jobs[i] = newJobView(rows[i]!, item.payload, trace);
  }
  return { rows, jobs };
}

/** A job option left out, to be filled in from the queue's settings by {@link applyQueueDefaults}. */
const QUEUE_DEFAULT = -1;

/** Fills in the queue's maxAttempts and timeoutMs (where the job gave none) and maxStalls, and its order (not fifo). */
export function applyQueueDefaults<P>(rows: NewJobRow[], jobs: Job<P>[], config: QueueConfig): void {
  const order = jobOrderOf(config);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (order !== null) row.order = order;
    if (row.maxAttempts === 0) row.maxAttempts = jobs[i]!.maxAttempts = config.maxAttempts;
    if (row.timeoutMs === QUEUE_DEFAULT) row.timeoutMs = jobs[i]!.timeoutMs = config.timeoutMs;
    row.maxStalls = jobs[i]!.maxStalls = config.maxStalls;
  }
}

function newJobView<P>(row: NewJobRow, payload: P, trace: JobTrace | null): Job<P> {
  return {
    id: row.id, queue: row.queue, name: row.name, payload, priority: row.priority, state: row.state, runAt: row.runAt,
    attempt: 0, maxAttempts: row.maxAttempts, stalls: 0, maxStalls: row.maxStalls, leaseToken: 0, leaseExpiresAt: null,
    createdAt: row.createdAt, updatedAt: row.createdAt, finishedAt: null, lastError: null, result: null, deadReason: null, history: [],
    timeoutMs: row.timeoutMs, progress: null, trace, group: row.group, expiresAt: row.expiresAt ?? null, cost: row.cost ?? null,
    concurrencyKey: row.concurrencyKey ?? null, requires: requiresOf(row.requires),
  };
}

/** Every key of list options (the remote client checks them too). */
export const LIST_OPTION_KEYS = ['state', 'name', 'group', 'after', 'createdAfter', 'createdBefore', 'payload', 'limit'] as const;

/**
 * Validates list options into store parameters, and the payload filter, if any (a bounded
 * search: see Store.jobsSearch). @throws InvalidArgumentError naming the option at fault.
 */
export function checkListParams(queue: string, options: ListOptions): { params: ListParams; payload?: PayloadMatch } {
  checkQueueName(queue);
  checkOptionKeys(options, LIST_OPTION_KEYS, 'list');
  if (options.state !== undefined) checkJobState(options.state);
  if (options.after !== undefined) checkJobId(options.after, 'after');
  const name = options.name === undefined ? undefined : checkJobName(options.name);
  const group = options.group === undefined ? undefined : checkJobGroup(options.group);
  const range = idRange(options.after, options.createdAfter, options.createdBefore);
  const params = { queue, state: options.state, name, group, ...range, limit: checkLimit('listLimit', options.limit, 'limit') };
  return options.payload === undefined ? { params } : { params, payload: checkPayloadFilter(options.payload, 'list') };
}

export function checkLease(lease: unknown): asserts lease is Lease {
  const l = lease as Lease;
  if (typeof l !== 'object' || l === null || !isJobId(l.jobId) || !Number.isInteger(l.token) || l.token < 1) {
    throw new InvalidArgumentError('lease', `lease must be { jobId, token } from a delivered job (got ${describe(lease)})`);
  }
}

/**
 * The text kept for a failed attempt: the stack if there is one, made storable, cut to the limit.
 * Error text comes from user code and is never refused: U+0000 and unpaired surrogates (which
 * PostgreSQL cannot store) become U+FFFD, on every store alike.
 */
export function errorText(error: unknown, maxBytes: number): string {
  let text: string;
  if (error instanceof Error) text = error.stack ?? `${error.name}: ${error.message}`;
  else if (typeof error === 'string') text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  text = storableText(text);
  if (text.length > maxBytes / 3 && Buffer.byteLength(text) > maxBytes) text = Buffer.from(text).subarray(0, maxBytes).toString('utf8') + '…';
  return text;
}

/** `text` with U+0000 and unpaired surrogates replaced by U+FFFD (the replacement character). */
export function storableText(text: string): string {
  const noNul = text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
  return noNul.isWellFormed() ? noNul : noNul.toWellFormed();
}

/**
 * The caller's transaction the items of one add are to be written in, if any.
 * @throws InvalidArgumentError when items name different transactions, or the store cannot write in one.
 */
export function callerTransaction(items: readonly AddItem<unknown>[], store: Store): unknown {
  const tx = items.length > 0 ? items[0]!.tx : undefined;
  if (items.some((item) => item.tx !== tx)) throw new InvalidArgumentError('tx', 'every item of one addMany must use the same tx');
  if (tx !== undefined && !store.jobsInsertManyInTransaction) {
    throw new InvalidArgumentError('tx', 'adding inside your own transaction needs the PostgreSQL store');
  }
  return tx;
}

/**
 * A report's progress as JSON text and its log lines made storable and cut to their limit.
 * Log lines come from user code and are never refused for their text (as error text is not);
 * progress is a value the caller chose, refused when no store can keep it.
 * @throws InvalidArgumentError or PayloadTooLargeError naming `progress` or `logs`.
 */
export function checkReport(report: unknown, limits: { progressMaxBytes: number; jobLogLineMaxBytes: number }): { progress?: string; lines: string[] } {
  if (typeof report !== 'object' || report === null || Array.isArray(report)) {
    throw new InvalidArgumentError('report', `a report must be an object { progress?, logs? } (got ${describe(report)})`);
  }
  checkOptionKeys(report, ['progress', 'logs'], 'report');
  const r = report as JobReport;
  if (r.progress === undefined && r.logs === undefined) throw new InvalidArgumentError('report', 'a report needs progress, logs, or both');
  if (r.logs !== undefined && (!Array.isArray(r.logs) || r.logs.some((l) => typeof l !== 'string'))) {
    throw new InvalidArgumentError('logs', `logs must be an array of strings (got ${describe(r.logs)})`);
  }
  if (r.logs !== undefined && r.logs.length > LIMITS.jobLogMax.max) {
    throw new InvalidArgumentError('logs', `at most ${LIMITS.jobLogMax.max} log lines per report (got ${r.logs.length})`);
  }
  return {
    ...(r.progress === undefined ? {} : { progress: encodeJson(r.progress, limits.progressMaxBytes, 'progress') }),
    lines: (r.logs ?? []).map((line) => errorText(line, limits.jobLogLineMaxBytes)),
  };
}
