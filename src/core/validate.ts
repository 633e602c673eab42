import { InvalidArgumentError, PayloadTooLargeError } from './errors.ts';
import { checkLimit, describe, LIMITS } from './limits.ts';

const QUEUE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

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

const JOB_NAME_MAX = 128;

export function checkJobName(name: unknown): string {
  if (name === undefined) return 'default';
  if (typeof name !== 'string' || name.length === 0 || name.length > JOB_NAME_MAX) {
    throw new InvalidArgumentError('name', `job name must be a string of 1–${JOB_NAME_MAX} characters (got ${describe(name)})`);
  }
  return name;
}

/**
 * Serialises a payload (or result) to JSON, refusing what JSON cannot carry faithfully.
 * @throws InvalidArgumentError when the value is not JSON-serialisable; PayloadTooLargeError when over `maxBytes`.
 */
export function encodeJson(value: unknown, maxBytes: number, field = 'payload'): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new InvalidArgumentError(field, `${field} is not JSON-serialisable: ${(err as Error).message}`, { cause: err });
  }
  if (json === undefined) {
    throw new InvalidArgumentError(field, `${field} is not JSON-serialisable (got ${describe(value)}); use an object, array, string, number, boolean or null`);
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only long strings need the exact count.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes);
  }
  return json;
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
   * PostgreSQL store: add the job inside your own open transaction — a `postgres` (postgres.js)
   * transaction `sql` or a `pg` client inside BEGIN. The job exists if and only if that transaction commits.
   */
  tx?: unknown;
}

const ADD_OPTION_KEYS = new Set(['name', 'priority', 'delayMs', 'runAt', 'maxAttempts', 'tx']);

export interface CheckedAddOptions {
  name: string;
  priority: number;
  runAt: number;
  maxAttempts: number | undefined;
}

/** Validates add options against the current time. @throws InvalidArgumentError */
export function checkAddOptions(options: unknown, nowMs: number): CheckedAddOptions {
  if (options === undefined) return { name: 'default', priority: 0, runAt: nowMs, maxAttempts: undefined };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError('options', `add options must be an object (got ${describe(options)})`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!ADD_OPTION_KEYS.has(key)) throw new InvalidArgumentError(key, `unknown add option ${JSON.stringify(key)}; known: ${[...ADD_OPTION_KEYS].join(', ')}`);
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
  };
}
