import { InvalidArgumentError, PayloadTooLargeError } from './errors.ts';
import { isJobId } from './ids.ts';
import { JOB_STATES, type JobState, type JobTrace } from './job.ts';
import { checkLimit, describe, LIMITS } from './limits.ts';
import { nearest } from './options.ts';
import { checkJobTrace } from './trace-context.ts';

const QUEUE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** The queue-name rule as a pattern, for the API description. */
export const QUEUE_NAME_PATTERN = QUEUE_NAME_RE.source;

/**
 * Queue names: 1–128 characters of letters, digits, `.`, `_`, `:` and `-`, starting with a letter or digit.
 * Dots group queues (`orders.eu`) so that scopes can match patterns later.
 */
export function checkQueueName(name: unknown, field = 'queue'): string {
  if (typeof name !== 'string' || !QUEUE_NAME_RE.test(name)) {
    throw new InvalidArgumentError(
      field,
      `${field} name ${describe(name)} is not valid: use 1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** Longest job name, in UTF-16 code units. */
export const JOB_NAME_MAX = 128;

/**
 * Job names: 1–128 characters of well-formed text without U+0000 (which PostgreSQL cannot store).
 * The same rule checks a job's `group` (pass `field`: `group`); only a name defaults to `default`.
 */
export function checkJobName(name: unknown, field = 'name'): string {
  if (name === undefined && field === 'name') return 'default';
  const what = field === 'name' ? 'job name' : field;
  if (typeof name !== 'string' || name.length === 0 || name.length > JOB_NAME_MAX) {
    throw new InvalidArgumentError(field, `${what} must be a string of 1–${JOB_NAME_MAX} characters (got ${describe(name)})`);
  }
  const problem = stringProblem(name);
  if (problem) throw new InvalidArgumentError(field, `${what} ${JSON.stringify(name)} ${problem}`);
  return name;
}

/** Longest idempotency key, in UTF-16 code units. */
export const IDEMPOTENCY_KEY_MAX = 128;

/** An add's idempotency key: 1–128 characters of well-formed text without U+0000. @throws InvalidArgumentError naming `idempotencyKey` */
export function checkIdempotencyKey(key: unknown): string {
  const field = 'idempotencyKey';
  if (typeof key !== 'string' || key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX) {
    throw new InvalidArgumentError(field, `${field} must be a string of 1–${IDEMPOTENCY_KEY_MAX} characters (got ${describe(key)})`);
  }
  const problem = stringProblem(key);
  if (problem) throw new InvalidArgumentError(field, `${field} ${JSON.stringify(key)} ${problem}`);
  return key;
}

/** Longest unique key, in UTF-16 code units. */
export const UNIQUE_KEY_MAX = 128;

/** An add's unique key: 1–128 characters of well-formed text without U+0000. @throws InvalidArgumentError naming `uniqueKey` */
export function checkUniqueKey(key: unknown): string {
  const field = 'uniqueKey';
  if (typeof key !== 'string' || key.length === 0 || key.length > UNIQUE_KEY_MAX) {
    throw new InvalidArgumentError(field, `${field} must be a string of 1–${UNIQUE_KEY_MAX} characters (got ${describe(key)})`);
  }
  const problem = stringProblem(key);
  if (problem) throw new InvalidArgumentError(field, `${field} ${JSON.stringify(key)} ${problem}`);
  return key;
}

/** A job's group (tenant, customer): the rule of a job name ({@link checkJobName}), naming `group`. @throws InvalidArgumentError */
export function checkJobGroup(group: unknown): string {
  return checkJobName(group, 'group');
}

/** A job's concurrency key: the rule of a job group ({@link checkJobGroup}), naming `concurrencyKey`. @throws InvalidArgumentError */
export function checkConcurrencyKey(key: unknown): string {
  return checkJobName(key, 'concurrencyKey');
}

/**
 * In JSON.stringify's output, what may hide a value no store can keep: the escape of U+0000,
 * the escape of an unpaired surrogate (Node writes lone surrogates as `\udXXX`), or a `null`,
 * which is what NaN and ±Infinity became. Only a filter: {@link findUnstorable} decides (an
 * escaped backslash before `u0000`, or a real null, is a false alarm that costs one walk).
 */
const SUSPECT_JSON = /\\u(?:0000|d[89a-f])|null/;

/**
 * Serialises a payload (or result) to JSON, refusing what JSON, or one of the stores, cannot
 * carry faithfully, the same on every store: U+0000 and unpaired surrogates in any string
 * (values and keys; PostgreSQL refuses both), NaN and ±Infinity (JSON.stringify would turn
 * them into null), BigInt, circular structures. The message names the path, e.g.
 * `payload.items[3] contains an unpaired surrogate (\ud800) …`. Members whose value is
 * undefined, a function or a symbol are left out, as JSON.stringify does.
 * Cost: one JSON.stringify and one regex test over its output; the value is walked only when
 * that test matches.
 * @throws InvalidArgumentError (its `field` is `field`) when the value cannot be stored; PayloadTooLargeError when over `maxBytes`.
 */
export function encodeJson(value: unknown, maxBytes: number, field = 'payload'): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    const problem =
      findUnstorable(value, field) ??
      (err instanceof RangeError ? `${field} is nested too deeply to be sent as JSON (${err.message})` : `${field} is not JSON-serialisable: ${(err as Error).message}`);
    throw new InvalidArgumentError(field, problem, { cause: err });
  }
  if (json === undefined) {
    throw new InvalidArgumentError(field, `${field} is not JSON-serialisable (got ${describe(value)}); use an object, array, string, number, boolean or null`);
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only long strings need the exact count.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes, field);
  }
  if (SUSPECT_JSON.test(json)) {
    const problem = findUnstorable(value, field);
    if (problem) throw new InvalidArgumentError(field, problem);
  }
  return json;
}

/**
 * Why a string cannot be stored (U+0000, or an unpaired surrogate), as the end of a sentence
 * whose subject is the string; null when it can.
 */
export function stringProblem(s: string): string | null {
  const nul = s.indexOf('\0');
  if (nul !== -1) {
    return `contains the character U+0000 (NUL) at index ${nul}, which Spool does not store (PostgreSQL cannot hold it): remove it, or encode binary data as base64`;
  }
  if (s.isWellFormed()) return null;
  const at = loneSurrogateAt(s);
  const unit = s.charCodeAt(at).toString(16);
  return (
    `contains an unpaired surrogate (\\u${unit}) at index ${at}, which is not valid Unicode and which Spool does not store ` +
    '(PostgreSQL cannot hold it): the text was probably cut inside a character such as an emoji; repair it, or replace it with toWellFormed()'
  );
}

function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

const IDENTIFIER_RE = /^[A-Za-z_$][\w$]*$/;

/** `payload.items[3].name`, `payload["a b"]`: the path of a value, from the field and the keys and indexes on the way. */
function formatPath(field: string, keys: readonly (string | number)[], depth = keys.length): string {
  let path = field;
  for (let i = 0; i < depth; i++) {
    const k = keys[i]!;
    path += typeof k === 'number' ? `[${k}]` : IDENTIFIER_RE.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  }
  return path;
}

/**
 * Walks `root` as JSON.stringify does (toJSON, boxed primitives, members left out) and says
 * what in it cannot be stored, naming its path from `field`; null when everything can.
 * Iterative, so it goes as deep as JSON.stringify does.
 */
export function findUnstorable(root: unknown, field: string): string | null {
  /** The keys and indexes from the root to the value being visited; a path is built from them only for a message. */
  const keys: (string | number)[] = [];
  /** The objects and arrays being visited, outermost first: `frames[k]` sits at depth k. */
  const frames: { value: object; names: string[] | null; length: number; next: number }[] = [];
  const onPath = new Set<object>();
  const path = (depth = keys.length) => formatPath(field, keys, depth);
  /** Checks one value; an object or array is pushed, to be walked next. */
  const enter = (key: string, input: unknown): string | null => {
    let value = input;
    if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') value = toJSON.call(value, key);
    }
    if (typeof value === 'object' && value !== null) {
      if (value instanceof Number) value = Number(value);
      else if (value instanceof String) value = String(value);
      else if (value instanceof Boolean) value = value.valueOf();
      else if (value instanceof BigInt) value = value.valueOf();
    }
    switch (typeof value) {
      case 'string': {
        const problem = stringProblem(value);
        return problem && `${path()} ${problem}`;
      }
      case 'number':
        return Number.isFinite(value) ? null : `${path()} is ${value}; JSON has no NaN or Infinity: send null or a string`;
      case 'bigint':
        return `${path()} is a BigInt (${value}n); JSON has no BigInt: send it as a string`;
      case 'object': {
        if (value === null) return null;
        if (onPath.has(value)) {
          const seen = frames.findIndex((f) => f.value === value);
          return `${path()} refers back to ${path(seen)}: a circular structure cannot be sent as JSON`;
        }
        onPath.add(value);
        const names = Array.isArray(value) ? null : Object.keys(value);
        frames.push({ value, names, length: names ? names.length : (value as unknown[]).length, next: 0 });
        return null;
      }
      default:
        return null; // undefined, functions and symbols: left out (or null in arrays), as JSON.stringify does
    }
  };
  try {
    let problem = enter('', root);
    while (problem === null && frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.next === frame.length) {
        onPath.delete(frames.pop()!.value);
        keys.pop(); // the key of this container in its parent (none for the root)
        continue;
      }
      const i = frame.next++;
      let key: string | number = i;
      let member: unknown;
      if (frame.names === null) member = (frame.value as unknown[])[i];
      else {
        key = frame.names[i]!;
        member = (frame.value as Record<string, unknown>)[key];
        if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
        const keyProblem = stringProblem(key);
        if (keyProblem) return `the key ${JSON.stringify(key)} of ${path()} ${keyProblem}`;
      }
      keys.push(key);
      const depth = frames.length;
      problem = enter(String(key), member);
      if (frames.length === depth) keys.pop(); // not a container: done with it
    }
    return problem;
  } catch {
    return null; // a getter or toJSON that throws: the caller reports JSON.stringify's own error
  }
}

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

const ADD_OPTION_KEYS = new Set(['name', 'priority', 'delayMs', 'runAt', 'maxAttempts', 'timeoutMs', 'trace', 'group', 'idempotencyKey', 'ttlMs', 'cost', 'tx', 'uniqueKey', 'uniqueWindowMs', 'concurrencyKey']);

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
}

/** Validates add options against the current time. @throws InvalidArgumentError */
export function checkAddOptions(options: unknown, nowMs: number): CheckedAddOptions {
  if (options === undefined) return { name: 'default', priority: 0, runAt: nowMs, maxAttempts: undefined, timeoutMs: undefined, trace: undefined, group: null, idempotencyKey: null, expiresAt: null, cost: null, uniqueKey: null, uniqueUntil: null, concurrencyKey: null };
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
  };
}

/** The `cost` add option: a positive finite number of ms, at most the `cost` limit. @throws InvalidArgumentError */
export function checkJobCost(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError('cost', `cost must be a positive finite number: the job's expected run time in ms (got ${describe(value)})`);
  }
  if (value > LIMITS.cost.max) throw new InvalidArgumentError('cost', `cost must be at most ${LIMITS.cost.max} (got ${value})`);
  return value;
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

/** A state name, one of JOB_STATES. @throws InvalidArgumentError */
export function checkJobState(state: unknown, field = 'state'): JobState {
  if (!JOB_STATES.includes(state as JobState)) {
    throw new InvalidArgumentError(field, `${field} must be one of ${JOB_STATES.join(', ')} (got ${describe(state)})`);
  }
  return state as JobState;
}

/** A job id (UUIDv7). @throws InvalidArgumentError naming `field` (default `jobId`). */
export function checkJobId(id: unknown, field = 'jobId'): string {
  if (!isJobId(id)) throw new InvalidArgumentError(field, `${field} ${describe(id)} is not a job id (a UUID such as 0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e)`);
  return id;
}
